// skiff rmi: docker's rules for untagging and deleting an image that
// containers may use.
#pragma once

#include <string>
#include <vector>

#include "skiff/storage/layer_store.hpp"
#include "skiff/store/paths.hpp"

namespace skiff::engine {

// What removing one image did, in the order docker reports it.
struct ImageRemoval {
  std::vector<std::string> untagged;  // full references ("docker.io/library/busybox:latest")
  std::string deleted;                // the image's ID, when the image itself went
};

// Removes a name of an image, or the image itself, by docker's rules:
// - a name, when the image has others, is untagged;
// - the last name of an image a container uses must be forced, and is
//   then untagged: the image stays while a container needs it;
// - by ID, an image a running container uses cannot be removed at all; one
//   a stopped container uses, or one with several names, must be forced,
//   and every name goes (the image again stays while a container needs it,
//   so one with no name left cannot be removed until then).
// Throws docker's "conflict: unable to delete ..." errors before changing
// anything; "no such image: REF" for an unknown one.
ImageRemoval remove_image(const store::Paths& paths, const std::string& ref, bool force);

// skiff rmi: remove_image for each ref in turn (one that fails does not stop
// the others), then the unpacked layers nothing uses any more.
struct ImageRemovalOutcome {
  std::string ref;
  ImageRemoval done;
  std::string error;  // why ref could not be removed, or empty
};
std::vector<ImageRemovalOutcome> remove_images(const store::Paths& paths, const std::vector<std::string>& refs,
                                               bool force);

// Removes the unpacked layers that no image and no container uses.
void collect_unused_layers(const store::Paths& paths, storage::LayerStore& layers);

}  // namespace skiff::engine
