# Cases for scripts/tests/coreutils: grep, egrep, fgrep.
same "grep basic" 'grep hello mixed; grep -i hello mixed; grep -v o greek'
same "grep -n -c -l -L" 'grep -n a greek; grep -c a greek words; grep -l a greek words fruit; grep -L a greek words fruit'
same "grep -E" 'grep -E "^(al|be)" greek; grep -E "a{2}|ps" greek; grep -E "[[:digit:]]+" mixed'
same "grep BRE operators" 'grep "\(l\)\1" greek mixed; grep "a\{2\}\|eps" greek; grep "e\+" greek; grep "a+b" mixed'
same "grep -F" 'printf "a.b\naxb\n[x]\n" > f; grep -F a.b f; grep -F "[x]" f; grep -Fi A.B f; grep -Fx axb f'
same "grep -w -x" 'grep -w one words; grep -w fo words mixed; grep -x delta greek; grep -wc "fo*" mixed'
same "grep -o" 'grep -o "[a-z]*a" greek; grep -on "l\+" mixed; grep -oE "(ab|abc)d*" mixed; grep -o "x*" greek'
same "grep several patterns" 'grep -e alpha -e delta greek; grep -E -e "^b" -e "n$" greek; grep "$(printf "gamma\nbeta")" greek'
same "grep -f" 'printf "alpha\n^d\n" > pats; grep -f pats greek; printf "" > empty_pats; grep -f empty_pats greek; echo $?'
same "grep context" 'grep -A1 beta greek; grep -B2 delta greek; grep -C1 -n gamma greek; seq 1 30 | grep -C1 -E "^(5|9|10|20)$"'
same "grep context separators" 'seq 1 20 | grep -A1 -e 3 -e 7 -e 8; seq 1 10 | grep -B1 -m2 -e 2 -e 5 -e 8'
same "grep -m" 'grep -m2 a greek; grep -m1 -c a greek; grep -m1 -A2 alpha greek; grep -m0 a greek; echo $?'
same "grep -q -s status" 'grep -q alpha greek; echo $?; grep -q nothing greek; echo $?; grep -s x nofile; echo $?; grep -q alpha greek nofile; echo $?'
same "grep names" 'grep -H alpha greek; grep -h a greek words; grep a greek empty words; grep -c x - < greek'
same "grep -r" 'grep -r file tree; grep -rn other tree; grep -rl "" tree | sort; grep -r --include="*.c" other tree; grep -r --exclude="*.c" other tree'
same "grep -r default dot" 'cd tree && grep -r sub; grep -rc deep'
same "grep -R follows links" 'ln -s ../greek tree/g; grep -r alpha tree; grep -R alpha tree'
same "grep --exclude-dir" 'grep -r --exclude-dir=sub e tree'
same "grep directory operand" 'grep x tree; echo $?; grep -s x tree; echo $?'
same "grep binary" 'grep bin binary; grep -c bin binary; grep -a bin binary | od -c | head -2; grep -o bin binary'
same "grep stdin and -" 'cat greek | grep eta; grep -H eta - < greek; grep --label=in -H eta < greek'
same "grep -b -Z" 'grep -b a greek; grep -lZ a greek words | od -c'
same "grep empty pattern and lines" 'grep "" partial; grep -c "" greek; grep -v "" greek; echo $?; printf "a\n\nb\n" | grep -n "^$"'
same "grep regex errors" 'grep "[abc" greek; echo $?; grep -E "(ab" greek; echo $?; grep "a\{1" greek; echo $?; grep "\(a" greek; echo $?; grep -E "a{2,1}" greek; echo $?; grep "[[:bogus:]]" greek; echo $?; grep "[:space:]" greek; echo $?; grep "x\\" greek; echo $?; grep -E "\1" greek; echo $?'
same "grep leading quantifiers" 'grep -E "*a" greek | head -2; grep -E "a|+m" greek; grep "*a" mixed; echo $?; grep -E "a)" mixed; echo $?'
same "grep bad options" 'grep; echo $?; grep -A x a greek; echo $?; grep -Q a greek; echo $?'
same "egrep fgrep" 'egrep "a|e" greek 2>/dev/null; fgrep "a." greek 2>/dev/null; echo $?'
same "grep -i classes and ranges" 'grep -i "[A-C]L" greek; grep -ic "[[:upper:]]" mixed; grep -i "HELLO WORLD" mixed'
same "grep word assertions" 'grep "\<fo" mixed; grep "o\>" mixed; grep "\bbar\b" mixed; grep "\Bar" mixed; grep -o "\w\+" words | head -3; grep -c "\s" mixed'
# The generator appends to $pattern (no command substitution: a subshell
# would draw its own $RANDOM sequence, different from run to run). Anchors
# and word assertions stay out: GNU grep leaves its DFA for them and can
# take exponential time on nested repeats (they are checked above).
same "grep random extended patterns" '
RANDOM=7
atoms=(a b c . "[ab]" "[^c]" "[a-c]" x y)
make() {
    local depth=$1 kind=$((RANDOM % 7))
    if [ "$depth" -gt 2 ] || [ $kind -le 1 ]; then pattern+=${atoms[RANDOM % ${#atoms[@]}]}; return; fi
    case $kind in
        2) make $((depth + 1)); make $((depth + 1)) ;;
        3) pattern+="("; make $((depth + 1)); pattern+="|"; make $((depth + 1)); pattern+=")" ;;
        4) pattern+="("; make $((depth + 1)); pattern+=")*" ;;
        5) pattern+="("; make $((depth + 1)); pattern+=")+" ;;
        6) pattern+="("; make $((depth + 1)); pattern+="){$((RANDOM % 2)),$((RANDOM % 2 + 1))}" ;;
    esac
}
letters=(a b c x " " " ")
for ((index = 0; index < 40; index++)); do
    line=""
    for ((column = RANDOM % 12; column > 0; column--)); do line+=${letters[RANDOM % ${#letters[@]}]}; done
    printf "%s\n" "$line"
done > lines
for ((index = 0; index < 150; index++)); do
    pattern=""
    make 0
    echo "pattern $pattern"
    grep -E -n -o -e "$pattern" lines
done'
