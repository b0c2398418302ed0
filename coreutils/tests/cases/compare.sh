# Cases for scripts/tests/coreutils: hexdump, cmp, diff.
same "hexdump formats" 'hexdump binary; hexdump -C binary; hexdump -x binary; hexdump -b binary; hexdump -c binary; hexdump -d binary; hexdump -o binary'
same "hexdump squeezing" 'head -c 100 /dev/zero > zeros; hexdump zeros; hexdump -C zeros; hexdump -v -C zeros | wc -l'
same "hexdump -n -s and stdin" 'hexdump -n 5 -s 2 -C binary; printf abc | hexdump; printf abc | hexdump -C; hexdump -C empty; hexdump -C greek words'
same "hexdump several formats" 'hexdump -b -c binary'
same "hexdump errors" 'hexdump nothing; echo $?; hexdump nothing greek | tail -1; echo $?'
same "hexdump text" 'hexdump -C greek; hexdump -c mixed'
same "cmp" 'cmp greek greek; echo $?; cmp greek words; echo $?; printf "alpha\nbeta\nGamma\n" > g2; cmp greek g2; echo $?'
same "cmp -l -b -s" 'printf "alpha\nbeta\nGamma\n" > g2; cmp -l greek g2; cmp -b greek g2; cmp -s greek g2; echo $?; cmp -lb greek g2'
same "cmp EOF" 'head -c 10 greek > g10; head -c 6 greek > g6; cmp greek g10; cmp g6 greek; cmp empty greek; cmp -l g10 greek; echo $?'
same "cmp skips and limits" 'cmp -n 3 greek words; echo $?; cmp -i 2 greek greek; cmp greek words 6 5; cmp -i 1:0 fruit fields'
same "cmp errors" 'cmp nothing greek; echo $?; cmp; echo $?; cat greek | cmp - greek; echo $?'
same "diff normal" 'diff greek greek; echo $?; printf "alpha\nBETA\ngamma\ndelta\nomega\nepsilon\n" > g2; diff greek g2; echo $?'
same "diff insert delete" 'printf "beta\ngamma\ndelta\n" > g2; diff greek g2; diff g2 greek; diff empty greek; diff greek empty'
same "diff -u" 'printf "alpha\nBETA\ngamma\ndelta\nomega\nepsilon\n" > g2; touch -d "2024-03-02 01:02:03" g2; diff -u greek g2; diff -U1 greek g2; diff -U0 greek g2'
same "diff -c" 'printf "alpha\nBETA\ngamma\ndelta\nomega\nepsilon\n" > g2; touch -d "2024-03-02 01:02:03" g2; diff -c greek g2; diff -C1 greek g2'
same "diff hunks join and split" 'seq 1 40 > s1; seq 1 40 | sed -e "s/^5$/five/" -e "s/^12$/twelve/" -e "s/^30$/thirty/" -e "/^35$/d" > s2; diff -u --label a --label b s1 s2; diff s1 s2; diff -c --label a --label b s1 s2'
same "diff missing newline" 'printf "a\nb" > n1; printf "a\nb\n" > n2; printf "a\nc" > n3; diff n1 n2; diff n1 n3; diff -u --label x --label y n2 n3'
same "diff -q -s" 'diff -q greek words; echo $?; diff -s greek greek; diff -qs greek greek'
same "diff -i -b -w" 'printf "ALPHA\nbeta  \n g amma\n" > g2; printf "alpha\nbeta\ngamma\n" > g3; diff -i g2 g3; diff -b g2 g3; diff -w g2 g3; diff -iw g2 g3; echo $?'
same "diff binary" 'printf "x\0y" > b2; diff binary b2; echo $?; diff binary binary; echo $?'
same "diff directories" 'cp -r tree t2; echo changed > t2/file; rm t2/other/a.txt; echo new > t2/new; diff tree t2; echo $?; diff -r tree t2; echo $?'
same "diff -r -u -N" 'cp -r tree t2; echo changed > t2/sub/file; echo new > t2/new; rm t2/other/c.c; diff -ruN --label x --label y tree t2 | grep -v "^[-+][-+][-+] "; diff -rq tree t2'
same "diff file and directory" 'mkdir d; cp greek d/; diff greek d; echo $?; echo x >> d/greek; diff d greek'
same "diff errors" 'diff nothing greek; echo $?; diff greek; echo $?; diff -U x a b; echo $?'
same "diff stdin" 'printf "alpha\nb\n" | diff - greek; echo $?'
# Each file is written by one printf (printf is a program here, not bash's
# builtin): a line per printf made ~900 processes a side, which took 6 s of
# the 10 s bound on a loaded machine.
same "diff random files" '
RANDOM=11
words=(alpha beta gamma delta x y "" z beta alpha)
for ((round = 0; round < 60; round++)); do
    : > a; : > b; left=(); right=()
    for ((index = RANDOM % 14; index > 0; index--)); do left+=("${words[RANDOM % ${#words[@]}]}"); done
    for ((index = RANDOM % 14; index > 0; index--)); do right+=("${words[RANDOM % ${#words[@]}]}"); done
    ((${#left[@]})) && printf "%s\n" "${left[@]}" > a
    ((${#right[@]})) && printf "%s\n" "${right[@]}" > b
    echo "round $round"
    diff a b
    diff -u --label a --label b a b
done'
