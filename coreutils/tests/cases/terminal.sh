# Cases for scripts/tests/coreutils: more and vi. Without a terminal more
# copies its files (compared with util-linux's more, given several files:
# with standard input not a terminal, as here, util-linux's also copies
# standard input first and heads even a single file); on a terminal ($PTY
# runs a command on a pseudo-terminal, types keys and prints the screen
# left) more's paging is compared with util-linux's where they agree (ours
# quits at the end of the text, util-linux's waits there), and vi's edits
# with vim's: the same keys must leave the same files.
same "more copies files when not a terminal" 'more greek words empty; more tree greek; more missing greek; echo $?'
ours "more copies one file or its input as they are" 'more greek; more <words' "$(printf 'alpha\nbeta\ngamma\ndelta\nepsilon\none two three\nfour  five\n\nsix')"
same "more pages on a terminal" '$PTY 10x40 " |\r|3\r| | |b|d|7d|d|f|2s|z|q" more numbers'
ours "more searches and quits at the end" '$PTY 10x40 "/1[05]0\r|n|q" more numbers; $PTY 6x40 " | " more greek words' "...skipping
148
149
150
151
152
153
154
155
status 0
::::::::::::::
one two three
four  five

six
status 0"
# vim reads no vimrc, keeps no swap file and no viminfo.
vim='export VIMINIT="set nocompatible noswapfile viminfo="'
same "vi edits as vim does: words, changes, repeats, undo" "$vim"'; $PTY 10x40 "wdwjcwBIG\x1bj.j\$dTbjdWJx2~:2,3s/o/0/g\r:\$d\r:wq\r" vi mixed | tail -1; $PTY 10x40 "ddpjyyP..kJA!\x1bj.Orow\x1bu\x12:1\rdfa\x1bx:wq\r" vi greek | tail -1; cat mixed greek'
same "vi edits as vim does: searches, ex commands, finds" "$vim"'; cp fruit fruit2; $PTY 10x40 "/apple\rD?fig\rnx:%s/[0-9]//\rG5x:wq\r" vi fruit | tail -1; $PTY 10x40 "fpct rX\x1bj0wi<\x1bA>\x1b:g/fig/d\rGp:v/a/s/ /_/\r:wq\r" vi fruit2 | tail -1; cat fruit fruit2'
same "vi edits as vim does: a new file, brackets, big words" "$vim"'; $PTY 10x40 "ifirst\rsecond (x [y])\x1bkOzero\x1bjf(d%:wq\r" vi new | tail -1; $PTY 10x40 "WdWjjdEGkdgg:1,\$s/o/O/g\ryyp:x\r" vi words | tail -1; cat new words'
ours "vi shows the file and refuses to quit unsaved" '$PTY 8x60 "x|:q\r|:q!\r" vi greek; cat greek; $PTY 5x40 ":q\r" vi numbers' 'lpha
beta
gamma
delta
epsilon
~
~
No write since last change (add ! to override)
status 0
alpha
beta
gamma
delta
epsilon
1
2
3
4
"numbers" 2000L, 8893B
status 0'
ours "vi writes a new file" '$PTY 6x40 "ihello\x1b|:w\r|:q\r" vi new; cat new' 'hello
~
~
~
~
"new" 1L, 6B written
status 0
hello'
ours "vi errors" 'vi a b 2>&1; echo $?; vi greek 2>&1; echo $?' "vi: only one file can be edited: extra operand 'b'
1
vi: standard input is not a terminal
1"
