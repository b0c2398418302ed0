#!/usr/bin/env python3
"""Differential test: random scripts from a grammar of the shell language,
each run by dash and by msh; standard output and exit status must agree.

Usage: differential.py MSH [COUNT]. The seed is TEST_SEED (default fixed,
so a run is reproducible); a failure prints the script. Ends with
"N passed, N failed".

The generator keeps to what both shells must do alike: no timing, no
process ids, no error message texts (standard error is not compared), no
behaviour POSIX leaves open where msh documents its choice (echo's -e,
`.` with arguments, the status of a failing cd).
"""

import os
import random
import subprocess
import sys
import tempfile

MSH = os.path.abspath(sys.argv[1])
COUNT = int(sys.argv[2]) if len(sys.argv) > 2 else 300
SEED = int(os.environ.get("TEST_SEED", "20240611"))

VARIABLES = ["a", "b", "c", "x1", "long_name"]
WORDS = ["foo", "bar", "a b", "", "x*y", "1", "42", "-n", "tab\there", "q'uote", 'd"q', "back\\slash", "$", "*.none", "é"]
PATTERNS = ["*", "f*", "?", "[ab]*", "*o", "foo", "[!f]*", "'a b'", "*[0-9]*", "''", '"*"', "\\*"]


class Generator:
    def __init__(self, rng):
        self.rng = rng
        self.depth = 0
        self.functions = []

    def choice(self, items):
        return self.rng.choice(items)

    def literal_word(self):
        """A word as written: quoted or not."""
        text = self.choice(WORDS)
        style = self.rng.randrange(4)
        if style == 0:
            return "'" + text.replace("'", "'\\''") + "'"
        if style == 1:
            return '"' + "".join("\\" + c if c in '"$`\\' else c for c in text) + '"'
        if style == 2 and text and all(c.isalnum() for c in text):
            return text
        return "".join("\\" + c if not c.isalnum() else c for c in text) if text else "''"

    def parameter(self, quoted):
        name = self.choice(VARIABLES)
        form = self.rng.randrange(12)
        word = self.choice(["w", "two words", "", "$" + self.choice(VARIABLES)])
        pattern = self.choice(["*", "?", "f*", "*o", "[ab]", "x"])
        forms = [
            "$" + name,
            "${%s}" % name,
            "${%s:-%s}" % (name, word),
            "${%s-%s}" % (name, word),
            "${%s:+%s}" % (name, word),
            "${%s+alt}" % name,
            "${#%s}" % name,
            "${%s%%%s}" % (name, pattern),
            "${%s%%%%%s}" % (name, pattern),
            "${%s#%s}" % (name, pattern),
            "${%s##%s}" % (name, pattern),
            "${%s:=%s}" % (name, "set" + str(self.rng.randrange(9))),
        ]
        text = forms[form]
        return '"' + text + '"' if quoted else text

    def arithmetic(self):
        def expression(depth):
            if depth > 2 or self.rng.random() < 0.3:
                return self.choice([str(self.rng.randrange(-5, 20)), self.choice(["i", "n", "k"])])
            operator = self.choice(["+", "-", "*", "/", "%", "<", "==", "!=", "&&", "||", "&", "|", "^", "<<"])
            left, right = expression(depth + 1), expression(depth + 1)
            if operator in ("/", "%"):
                right = str(self.rng.randrange(1, 7))
            if operator == "<<":
                right = str(self.rng.randrange(0, 5))
            return "(%s %s %s)" % (left, operator, right)

        return "$((%s))" % expression(0)

    def word(self):
        kind = self.rng.randrange(10)
        if kind < 4:
            return self.literal_word()
        if kind < 6:
            return self.parameter(self.rng.random() < 0.5)
        if kind == 6:
            return self.arithmetic()
        if kind == 7 and self.depth < 3:
            return '"$(%s)"' % self.simple_output()
        if kind == 8:
            return self.choice(['"$@"', "$@", '"$*"', "$*", "$#", '"$1"', "${2:-none}"])
        return self.parameter(False) + self.literal_word()

    def simple_output(self):
        words = " ".join(self.word() for _ in range(self.rng.randrange(1, 4)))
        # echo's first word is fixed: echo's options are where shells differ
        # (msh takes -n, -e, -E as bash does; dash only a first -n).
        return self.choice(["echo . " + words, "printf '%s|' " + words, "echo $(( %d + %d ))" % (self.rng.randrange(9), self.rng.randrange(9))])

    def condition(self):
        options = [
            "true",
            "false",
            "[ %s = %s ]" % (self.word(), self.word()),
            "[ -n %s ]" % self.parameter(True),
            "[ -z %s ]" % self.parameter(True),
            "[ %d -lt %d ]" % (self.rng.randrange(5), self.rng.randrange(5)),
            "! " + self.choice(["true", "false"]),
            "case %s in %s) true;; *) false;; esac" % (self.word(), self.choice(PATTERNS)),
        ]
        return self.choice(options)

    def statement(self):
        self.depth += 1
        kind = self.rng.randrange(16 if self.depth < 3 else 5)
        if kind == 0:
            text = "%s=%s" % (self.choice(VARIABLES), self.word())
        elif kind == 1:
            text = self.simple_output()
        elif kind == 2:
            text = "%s && %s || %s" % (self.condition(), self.simple_output(), self.simple_output())
        elif kind == 3:
            text = 'printf "[%%s]\\n" %s' % " ".join(self.word() for _ in range(self.rng.randrange(1, 4)))
        elif kind == 4:
            text = "set -- %s" % " ".join(self.word() for _ in range(self.rng.randrange(0, 4)))
        elif kind == 5:
            text = "if %s; then %s; elif %s; then %s; else %s; fi" % (
                self.condition(), self.block(), self.condition(), self.block(), self.block())
        elif kind == 6:
            text = "for v in %s; do %s; done" % (" ".join(self.word() for _ in range(self.rng.randrange(0, 4))), self.block())
        elif kind == 7:
            # A counter of its own per nesting level, so inner loops cannot reset outer ones.
            counter = "loop%d" % self.depth
            text = "%s=0; while [ $%s -lt %d ]; do %s=$((%s + 1)); %s; done" % (
                counter, counter, self.rng.randrange(4), counter, counter, self.block())
        elif kind == 8:
            arms = " ".join("%s) %s;;" % ("|".join(self.choice(PATTERNS) for _ in range(self.rng.randrange(1, 3))), self.block())
                            for _ in range(self.rng.randrange(1, 4)))
            text = "case %s in %s esac" % (self.word(), arms)
        elif kind == 9:
            # The body is made before the name is known, so no function
            # calls itself (both shells would recurse until their limits).
            name = "f%d" % len(self.functions)
            body = self.block()
            self.functions.append(name)
            text = "%s() { %s; }" % (name, body)
        elif kind == 10 and self.functions:
            text = "%s %s" % (self.choice(self.functions), " ".join(self.word() for _ in range(self.rng.randrange(0, 3))))
        elif kind == 11:
            text = "( %s; %s )" % (self.statement(), self.statement())
        elif kind == 12:
            text = "{ %s; %s; } | %s" % (self.statement(), self.statement(), self.choice(["cat", "sort", "wc -l", "tr a-z A-Z"]))
        elif kind == 13 and self.depth == 1:
            # A here-document ends its line, so only as a whole line of the script.
            text = "while read -r line; do echo \"<$line>\"; done <<EOF\n%s\n%s\nEOF" % (
                self.choice(["plain line", "$a and ${b:-b}", "$(echo sub)", "tab\there"]), self.choice(["x", "  spaced  ", "$((2*3))"]))
        elif kind == 13:
            text = "echo here | { read -r line; echo \"[$line]\"; }"
        elif kind == 14:
            text = 'IFS=%s; set -- %s; echo "$#"; IFS=" "' % (self.choice(["':'", "' '", "','", "''"]), self.parameter(False))
        else:
            text = "x1=$(%s); echo \"$?$x1\"" % self.simple_output()
        self.depth -= 1
        return text

    def block(self):
        return "; ".join(self.statement() for _ in range(self.rng.randrange(1, 3)))

    def script(self):
        self.functions = []
        lines = ["a=foo b='a b' c= long_name=bar"]
        lines += [self.statement() for _ in range(self.rng.randrange(3, 9))]
        lines.append("echo end $?")
        return "\n".join(lines) + "\n"


def run(shell, path, directory):
    try:
        result = subprocess.run([shell, path], cwd=directory, capture_output=True, timeout=10,
                                env={"PATH": "/usr/bin:/bin", "HOME": directory, "LC_ALL": "C"})
        return result.stdout, result.returncode
    except subprocess.TimeoutExpired:
        return b"(timed out)", -1


def main():
    rng = random.Random(SEED)
    generator = Generator(rng)
    passed = failed = 0
    directory = tempfile.mkdtemp(prefix="msh-differential-")
    for name in ("foo", "foobar", "bar"):
        open(os.path.join(directory, name), "w").close()
    path = os.path.join(directory, "script.sh")
    try:
        for number in range(COUNT):
            script = generator.script()
            with open(path, "w") as file:
                file.write(script)
            expected = run("dash", path, directory)
            actual = run(MSH, path, directory)
            if expected == actual:
                passed += 1
            else:
                failed += 1
                print(f"FAIL script {number} (TEST_SEED={SEED}):\n{script}--- dash: {expected!r}\n--- msh:  {actual!r}\n")
    finally:
        for name in os.listdir(directory):
            os.remove(os.path.join(directory, name))
        os.rmdir(directory)
    print(f"differential: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
