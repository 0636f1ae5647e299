#!/bin/sh
# The seed corpus of fuzz_layer_unpack, made rather than committed (as the
# tests' hostile fixtures are): tests/fixtures/make-hostile-tarballs.sh's
# tars (entries that try to leave the layer, whiteouts, devices, fifos), and
# a few more: a gzip layer, long names, hard links, a read-only directory, an
# opaque directory listed after its files, a GNU sparse file.
#   make-tar-seeds.sh OUTDIR
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
out=$1
here=$(dirname "$0")
mkdir -p "$out"
"$here/../fixtures/make-hostile-tarballs.sh" "$out" "" /tmp/OUTSIDE
exec python3 - "$out" <<'PY'
import gzip, io, os, sys, tarfile

out = sys.argv[1]
tarfile.RECORDSIZE = 1024  # no 10 KiB of zeros for the fuzzer to mutate


def entry(name, kind=tarfile.REGTYPE, **kw):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mtime = 1700000000
    ti.mode = kw.pop("mode", 0o755 if kind == tarfile.DIRTYPE else 0o644)
    for k, v in kw.items():
        setattr(ti, k, v)
    return ti


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for ti, data in entries:
            if data is not None:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
            else:
                tf.addfile(ti)
    return buf.getvalue()


def save(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def f(name, text=b"data\n", **kw):
    return (entry(name, **kw), text)


def d(name, **kw):
    return (entry(name, tarfile.DIRTYPE, **kw), None)


rootfs = [d("./"), d("etc"), f("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"), d("usr"), d("usr/bin"),
          f("usr/bin/tool", b"#!/bin/sh\necho hi\n", mode=0o4755, uid=0, gid=0),
          (entry("usr/bin/alias", tarfile.SYMTYPE, linkname="tool", mode=0o777), None),
          (entry("usr/bin/hard", tarfile.LNKTYPE, linkname="usr/bin/tool"), None),
          f("home/user/.profile", b"export PS1\n", uid=1000, gid=1000)]
save("rootfs.tar", tar_bytes(rootfs))
save("rootfs.tar.gz", gzip.compress(tar_bytes(rootfs), mtime=0))
save("gnu-longname.tar", tar_bytes([f("a/" + "x" * 200 + "/file"), (entry("l" * 150, tarfile.SYMTYPE,
                                    linkname="t" * 150, mode=0o777), None)], tarfile.GNU_FORMAT))
save("readonly-dir.tar", tar_bytes([d("ro", mode=0o555), f("ro/file"), d("ro/sub", mode=0o000), f("ro/sub/x")]))
save("opaque-after.tar", tar_bytes([d("o"), f("o/new"), f("o/.wh..wh..opq", b""), f("o/.wh.old", b"")]))
save("replace.tar", tar_bytes([d("x"), f("x/in"), f("x", b"now a file\n"), d("x"), f("x/again"),
                               (entry("x/again", tarfile.SYMTYPE, linkname="/etc", mode=0o777), None)]))
save("xattr.tar", tar_bytes([(entry("cap", pax_headers={"SCHILY.xattr.security.capability": "\x01\x00\x00\x02",
                                                        "SCHILY.xattr.user.k": "v"}), b"x")]))
# A GNU sparse file (old format): 4 KiB hole, then 5 bytes.
sparse = bytearray(tar_bytes([f("sparse", b"hello")], tarfile.GNU_FORMAT))
sparse[156] = ord("S")
sparse[386:386 + 12] = b"00000010000\0"  # offset 4096
sparse[398:398 + 12] = b"00000000005\0"  # 5 bytes
sparse[483:483 + 12] = b"00000010005\0"  # real size
chk = sum(sparse[:148]) + 8 * 32 + sum(sparse[156:512])
sparse[148:156] = b"%06o\0 " % chk
save("gnu-sparse.tar", bytes(sparse))
save("empty.tar", b"\0" * 1024)
save("truncated.tar", tar_bytes(rootfs)[:700])
PY
