#!/usr/bin/env python3
"""Fails when a command or a flag of skiff has no man page or no completion.

Usage: check_docs.py SKIFF SOURCE_ROOT

Walks the commands the built binary offers (`skiff --help`, then `--help` of
each command and of each group's subcommands, in CLI11's format) and checks,
for each command:

- its man page: man/skiff-CMD.1 for a top-level command; for a group's
  subcommand man/skiff-GROUP-CMD.1, else the page whose SYNOPSIS names
  `skiff GROUP CMD` (skiff-ps.1 names `skiff container ls`); the page is
  listed in man/meson.build, and the page of a group lists the subcommand
  under COMMANDS, skiff.1 every top-level command;
- every long flag its --help lists (but --help) heads an `.SS` of the page's
  OPTIONS (GLOBAL OPTIONS in skiff.1);
- bash, zsh and fish complete the command's name and every such flag: in
  bash and zsh, the function the dispatch of the command (or group) names
  for it; in fish, the `complete` lines whose condition names the command as
  __skiff_parse calls it.
"""
import pathlib
import re
import shlex
import subprocess
import sys

LONG_FLAG = re.compile(r"--[A-Za-z0-9][A-Za-z0-9-]*")


def flag_in(text, flag):
    """Whether text holds flag as a word of its own (--pull, not --pull-x)."""
    return re.search(r"(?<![\w-])" + re.escape(flag) + r"(?![\w-])", text) is not None


# ---------------------------------------------------------------- the binary


def help_sections(skiff, path):
    """`skiff PATH --help` as {section title: [lines]} (Options, Subcommands)."""
    out = subprocess.run([skiff, *path, "--help"], capture_output=True, text=True, timeout=30)
    if out.returncode != 0:
        raise SystemExit(f"skiff {' '.join(path)} --help exited {out.returncode}: {out.stderr.strip()}")
    sections, current = {}, None
    for line in out.stdout.splitlines():
        m = re.match(r"^([A-Z][A-Za-z ]*):\s*$", line)
        if m:
            current = sections.setdefault(m.group(1), [])
        elif current is not None and line.strip():
            current.append(line)
    return sections


def long_flags(sections):
    """The long flags of an Options section, from the names column only."""
    flags = []
    for line in sections.get("Options", []):
        if not re.match(r"^  -", line):
            continue  # a description continued on its own line
        names = re.split(r"\s{2,}", line.strip())[0]
        flags += [f for f in LONG_FLAG.findall(names) if f != "--help" and f not in flags]
    return flags


def subcommands(sections):
    """The subcommands, each as the list of its names ("ls, list, ps" is one)."""
    lines = [line for line in sections.get("Subcommands", []) if re.match(r"^  \S", line)]
    return [re.split(r"\s{2,}", line.strip())[0].split(", ") for line in lines]


def commands(skiff):
    """Every command path with its long flags: [([], flags), (["run"], flags),
    (["container", "ls"], flags), (["container", "list"], the same)...]."""
    flags_of, aliases, todo = {}, {}, [()]
    while todo:
        path = todo.pop(0)
        sections = help_sections(skiff, list(path))
        flags_of[path] = long_flags(sections)
        for names in subcommands(sections):
            todo.append(path + (names[0],))
            aliases.update({path + (alias,): path + (names[0],) for alias in names[1:]})
    flags_of.update({alias: flags_of[path] for alias, path in aliases.items()})
    return [(list(path), flags) for path, flags in sorted(flags_of.items())]


# ---------------------------------------------------------------- man pages


def troff_text(text):
    """troff source with \\- as - and font changes left out."""
    return re.sub(r"\\f[BIRP]", "", text.replace("\\-", "-"))


def man_sections(page_text):
    """{.SH title: text} of a man page."""
    sections, title = {}, None
    for line in page_text.splitlines():
        if line.startswith(".SH "):
            title = line[4:].strip().strip('"')
            sections[title] = ""
        elif title is not None:
            sections[title] += line + "\n"
    return sections


class ManPages:
    def __init__(self, root):
        self.dir = root / "man"
        self.pages = {p.name: troff_text(p.read_text()) for p in sorted(self.dir.glob("*.1"))}
        self.listed = set(re.findall(r"'([^']+\.1)'", (self.dir / "meson.build").read_text()))

    def page_for(self, path):
        """The page that documents the command, or None."""
        name = "skiff-" + "-".join(path) + ".1" if path else "skiff.1"
        if name in self.pages or len(path) < 2:
            return name if name in self.pages else None
        synopsis_line = re.compile(r"^\.B " + re.escape("skiff " + " ".join(path)) + r"\s*$", re.M)
        named = [n for n, text in self.pages.items() if synopsis_line.search(man_sections(text).get("SYNOPSIS", ""))]
        return named[0] if len(named) == 1 else None

    def lists_command(self, page, word):
        """Whether the COMMANDS section of page has an entry (a .TP tag) for word."""
        lines = man_sections(self.pages[page]).get("COMMANDS", "").splitlines()
        tags = [lines[i + 1] for i, line in enumerate(lines[:-1]) if line.startswith(".TP")]
        return any(re.match(r"^\.BR? (\S+ )*?" + re.escape(word) + r"(\s|$|\")", t) for t in tags)

    def option_headings(self, page):
        sections = man_sections(self.pages[page])
        text = sections.get("OPTIONS", "") + sections.get("GLOBAL OPTIONS", "")
        return "\n".join(line for line in text.splitlines() if line.startswith(".SS "))


# ---------------------------------------------------------------- completions


def shell_functions(text, closing):
    """{name: body} of the shell functions of a bash or zsh file."""
    funcs = {}
    for m in re.finditer(r"^([A-Za-z_][\w-]*)\(\)\s*\n?\{", text, re.M):
        end = text.find(closing, m.end())
        funcs[m.group(1)] = text[m.end() : end if end >= 0 else len(text)]
    return funcs


def case_targets(body):
    """The function each pattern of the case statements in body calls:
    {"run": "_skiff_run", "container run": "_skiff_run", ...}."""
    targets = {}
    for m in re.finditer(r"^\s*\(?([^()\n]+)\)\s+(_skiff\w*)", body, re.M):
        for word in m.group(1).split("|"):
            targets[word.strip().strip("'\"")] = m.group(2)
    return targets


class Bash:
    name = "bash"

    def __init__(self, text):
        self.funcs = shell_functions(text, "\n}\n")
        main = self.funcs["_skiff"]
        self.dispatch = case_targets(main[main.rfind("case $cmd in") :])
        self.top = re.search(r"local commands='([^']*)'", main).group(1).split()
        self.subs = {g: s.split() for g, s in re.findall(r"^\s*(\w+)\) subs='([^']*)'", main, re.M)}

    def problems(self, path, flags):
        if not path:
            body = self.funcs["_skiff"]
        else:
            words = self.top if len(path) == 1 else self.subs.get(path[0], [])
            if path[-1] not in words:
                return [f"does not complete the command name {path[-1]!r}"]
            body = self.funcs.get(self.dispatch.get(" ".join(path), ""), None)
            if body is None and len(path) == 1 and path[0] in self.subs:
                return []  # a group: its subcommands are checked on their own
            if body is None:
                return ["has no function for the command in _skiff's dispatch"]
        return [f"does not complete {f}" for f in flags if not flag_in(body, f)]


class Zsh:
    name = "zsh"

    def __init__(self, text):
        self.funcs = shell_functions(text.replace("() {", "()\n{"), "\n}\n")

    def _dispatcher(self, path):
        return "_skiff" if len(path) <= 1 else "_skiff_" + path[0]

    def problems(self, path, flags):
        if not path:
            body = self.funcs["_skiff"]
        else:
            parent = self.funcs.get(self._dispatcher(path))
            if parent is None:
                return [f"has no function {self._dispatcher(path)}"]
            if not re.search(r"^\s*'" + re.escape(path[-1]) + ":", parent, re.M):
                return [f"does not complete the command name {path[-1]!r}"]
            target = case_targets(parent[parent.rfind("case $words[1] in") :]).get(path[-1])
            body = self.funcs.get(target or "")
            if body is None:
                return [f"has no function for the command in {self._dispatcher(path)}'s dispatch"]
            if len(path) == 1 and target == "_skiff_" + path[0] and "subcmds=(" in body:
                return []  # a group: its subcommands are checked on their own
        return [f"does not complete {f}" for f in flags if not flag_in(body, f)]


class Fish:
    name = "fish"

    def __init__(self, text):
        text = re.sub(r"\\\n\s*", " ", text)
        self.vars = {}
        self.completes = []  # (condition, argv)
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            try:
                argv = shlex.split(line)
            except ValueError:
                continue
            if argv[:2] == ["set", "-l"] and len(argv) >= 3:
                self.vars[argv[2]] = argv[3:]
            elif argv[:3] == ["complete", "-c", "skiff"]:
                cond = ""
                if "-n" in argv:
                    cond = argv[argv.index("-n") + 1]
                    if cond.startswith("$"):
                        cond = " ".join(self.vars.get(cond[1:], []))
                self.completes.append((cond, argv))
        parse = re.search(r"^function __skiff_parse\n(.*?)^end\n", text, re.M | re.S).group(1)
        # case 'container ls' 'container list'\n set cmd ps
        self.mapping = {}
        for words, cmd in re.findall(r"case ((?:'[^']*' ?)+)\s*\n\s*set cmd (\S+)", parse):
            for w in re.findall(r"'([^']*)'", words):
                self.mapping[w] = cmd

    @staticmethod
    def _names(cond):
        """The commands a condition tests for: __skiff_using A B, __skiff_using_pos A ..."""
        names = set()
        for part in re.split(r";|\band\b|\bor\b", cond):
            w = part.split()
            if w[:1] == ["__skiff_using"]:
                names |= set(w[1:])
            elif w[:1] == ["__skiff_using_pos"] and len(w) > 1:
                names.add(w[1])
        return names

    @staticmethod
    def _values(argv, opt):
        return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == opt]

    def problems(self, path, flags):
        if not path:
            lines = [a for c, a in self.completes if c.strip() == "__skiff_needs_command"]
        else:
            if len(path) == 1:
                named = [a for c, a in self.completes if c.strip() == "__skiff_needs_command"]
            else:
                named = [a for c, a in self.completes if c.strip() == "__skiff_using " + path[0]]
            offered = [w for a in named for v in self._values(a, "-a") for w in v.split()]
            if path[-1] not in offered:
                return [f"does not complete the command name {path[-1]!r}"]
            key = path[0] if len(path) == 1 else self.mapping.get(" ".join(path))
            if key is None:
                return ["has no name for the command in __skiff_parse"]
            lines = [a for c, a in self.completes if key in self._names(c)]
        given = {"--" + v for a in lines for v in self._values(a, "-l")}
        return [f"does not complete {f}" for f in flags if f not in given]


# ---------------------------------------------------------------- the checks


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    skiff, root = sys.argv[1], pathlib.Path(sys.argv[2])
    man = ManPages(root)
    shells = [
        Bash((root / "completions/bash/skiff").read_text()),
        Zsh((root / "completions/zsh/_skiff").read_text()),
        Fish((root / "completions/fish/skiff.fish").read_text()),
    ]
    problems = []
    found = commands(skiff)
    for path, flags in found:
        what = "skiff " + " ".join(path) if path else "skiff"
        page = man.page_for(path)
        if page is None:
            want = "man/skiff-" + "-".join(path) + ".1"
            if len(path) > 1:
                want += f", or a page whose SYNOPSIS has the line '.B {what}'"
            problems.append(f"{what}: no man page ({want})")
        else:
            if page not in man.listed:
                problems.append(f"{what}: man/{page} is not listed in man/meson.build")
            headings = man.option_headings(page)
            missing = [f for f in flags if not flag_in(headings, f)]
            problems += [f"{what}: man/{page} has no .SS heading for {f} under OPTIONS" for f in missing]
        if path:
            parent = "skiff.1" if len(path) == 1 else "skiff-" + path[0] + ".1"
            if parent in man.pages and not man.lists_command(parent, path[-1]):
                problems.append(f"{what}: man/{parent} does not list {path[-1]} under COMMANDS")
        for shell in shells:
            problems += [f"{what}: {shell.name} completion {p}" for p in shell.problems(path, flags)]
    problems += [f"man/{page} is not listed in man/meson.build" for page in man.pages if page not in man.listed]
    print(f"{len(found)} commands checked")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
