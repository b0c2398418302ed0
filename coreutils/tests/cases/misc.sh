# Cases for scripts/tests/coreutils: printf, env, date, uname, id, kill, clear.
same "printf basics" 'printf "%s|%d|%5.2f|%-4s|%x\n" word 42 3.14159 ab 255; printf "%%|%c|%b\n" xyz "a\tb"'
same "printf reuses the format" 'printf "%s=%s\n" a 1 b 2 c; printf "[%d]" 1 2 3; echo'
same "printf escapes" 'printf "a\\tb\\nc\\101\\0101\\x41\\e[0m\\q\n"'
# \u and \U print UTF-8 whatever the locale (GNU's printf does so in a UTF-8 locale).
same "printf unicode escapes" 'LC_ALL=C.UTF-8 printf "\\u00e9\\U0001F600\\u20ac\n"'
same "printf %b and \\c" 'printf "%b|" "x\\ny" "\\0101" "\\101"; printf "%b after" "stop\\cnever"; echo'
same "printf numbers" 'printf "%d %d %d %i %o %X %u\n" 0x1f 017 "'"'"'A" -3 64 48879 -1'
same "printf bad numbers" 'printf "%d|" abc 12x 99999999999999999999 -99999999999999999999; echo " $?"; printf "%f|" x 1.5y; echo " $?"'
same "printf star" 'printf "%*d|%-*d|%.*f|%*s\n" 6 42 6 42 2 3.14159 -4 ab'
same "printf %q" 'printf "%q\n" "a b" "it'"'"'s" plain "\$x" "" "~home"'
same "printf errors" 'printf; echo $?; printf "%z"; echo " $?"; printf "a%"; echo " $?"; printf "%5"; echo " $?"'
same "printf missing arguments" 'printf "%s|%d|%f|%c|\n"; printf "%s %s\n" one'
same "printf floats" 'printf "%e %E %g %G %g %g %#g %#.3g\n" 1234.5 0.00012 100000 1e6 0.0001 1e-5 1 12'
same "printf inf nan" 'printf "%f %F %e %g %5.1f\n" inf -inf nan -nan INF'
same "printf random formats" '
RANDOM=20240301
flags=("" "-" "+" " " "#" "0" "-0" "+0" "- " "#0")
conversions=(d i o u x X c s f e g E G)
# Dyadic fractions only: exact in double and long double alike (GNU uses long double).
fractions=(0 5 25 75 125 375 625 875 0625 3125)
for index in $(seq 1 400); do
    flag=${flags[RANDOM % ${#flags[@]}]}
    width=""; (( RANDOM % 3 )) && width=$((RANDOM % 14))
    precision=""; (( RANDOM % 2 )) && precision=".$((RANDOM % 9))"
    conversion=${conversions[RANDOM % ${#conversions[@]}]}
    case $conversion in
        [diouxX]) argument=$(( (RANDOM - 16384) * (RANDOM % 300) )) ;;
        [feEgG]) argument=$(( RANDOM - 16384 )).${fractions[RANDOM % ${#fractions[@]}]} ;;
        *) argument=word$((RANDOM % 97)) ;;
    esac
    printf "%s -> [%$flag$width$precision$conversion]\n" "%$flag$width$precision$conversion" "$argument"
done'
same "env prints" 'env -i A=1 B="two words" env; env -i env; echo $?'
same "env -u and assignments" 'env -i HOME=/h X=1 env -u HOME Y=2 env'
same "env runs commands" 'env -i PATH="$PATH" sh -c "echo \$0 ran"; env -C tree pwd; env -0 -i A=1 B=2 | od -c | head -2'
same "env errors" 'env nothing-here; echo $?; env -C nothing pwd; echo $?; env -u "A=B" env; echo $?; env -C tree; echo $?'
same "date fixed" 'date -d @1709296496; date -u -d "2024-03-01 12:34:56"; date -d "2000-02-29" +%j'
same "date formats" 'date -d @1709296496 "+%a %A %b %B %c %C %d %D %e %F %g %G %h %H %I %j %k %l %m %M %n %p %P %r %R %s %S %t %T %u %U %V %w %W %x %X %y %Y %z %:z %Z %%"'
same "date padding flags" 'date -d @1709296496 "+%-d|%_m|%05e|%-j|%^a|%#b|%10A|%-H|%3N|%N"'
same "date iso and rfc" 'd=@1709296496; date -d $d -I; date -d $d -Iseconds; date -d $d -Ins; date -d $d -Ihours; date -d $d -Iminutes; date -d $d -R; date -d $d --rfc-3339=seconds; date -d $d --rfc-3339=date'
same "date -r" 'date -r fruit; date -r nothing'
same "date relative items" 'date -d "2024-03-01 12:00 +1 day" +%F; date -d "2024-01-31 +1 month" +%F; date -d "2024-03-01 3 hours ago" "+%F %T"; date -d "2024-03-01 next week" +%F'
same "date errors" 'date -d garbage; echo $?; date bogus; echo $?; date +%F +%T; echo $?'
same "date week numbers" 'for d in 2020-12-31 2021-01-01 2021-01-03 2021-01-04 2024-12-30 2025-12-28; do date -d $d "+%F %G %V %U %W %u %w %j"; done'
same "uname" 'uname; uname -a; uname -snrvmo; uname -p; uname -i; uname -mn; uname x'
same "id" 'id; id -u; id -g; id -G; id -un; id -gn; id -Gn; id -ur'
same "id users" 'id root; id -G root; id -gn nobody; id nobody; id no-such-user; echo $?; id -u -g'
ours "kill -l" 'kill -l 9; kill -l TERM; kill -l 130; kill -l | head -3; kill -l SIGUSR1 RTMIN+2 35' 'KILL
15
INT
HUP
INT
QUIT
10
36
RTMIN+1'
ours "kill sends signals" 'sleep 5 & kill $!; wait $!; echo $?; sleep 5 & kill -9 $!; wait $!; echo $?; sleep 5 & kill -s HUP $!; wait $!; echo $?; sleep 5 & kill -USR1 $!; wait $!; echo $?' '143
137
129
138'
ours "kill errors" 'kill 2147480000 2>&1; echo $?; kill -BOGUS 1 2>&1; echo $?; kill 2>&1; echo $?; kill -l NOPE 2>&1; echo $?' 'kill: 2147480000: No such process
1
kill: '"'"'BOGUS'"'"': invalid signal
Try '"'"'kill --help'"'"' for more information.
1
kill: no process ID specified
Try '"'"'kill --help'"'"' for more information.
1
kill: '"'"'NOPE'"'"': invalid signal
1'
ours "kill -L" 'kill -L | head -2; kill -L | tail -1' ' 1 HUP      Hangup
 2 INT      Interrupt
64 RTMAX    Real-time signal 30'
same "clear" 'TERM=xterm clear | od -c; TERM=xterm clear -x | od -c'
