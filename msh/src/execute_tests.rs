//! Interpreter tests in the model system (no processes): control flow,
//! functions, variables, expansions, redirections and builtins, each
//! checked by what the script prints.

use crate::model::{run, run_with};

fn stdout(script: &str) -> alloc::string::String {
    let result = run(script);
    assert_eq!(result.stderr, "", "{script:?} printed errors");
    result.stdout
}

#[test]
fn echo_and_status() {
    assert_eq!(stdout("echo hello world"), "hello world\n");
    assert_eq!(stdout("echo -n a; echo b"), "ab\n");
    assert_eq!(stdout("echo 'a\\tb\\c' more; echo"), "a\tb\n");
    assert_eq!(stdout("false; echo $?; true; echo $?"), "1\n0\n");
    assert_eq!(stdout("! false; echo $?"), "0\n");
    assert_eq!(run("exit 3").status, 3);
    assert_eq!(run("false").status, 1);
}

#[test]
fn and_or_lists() {
    assert_eq!(stdout("true && echo a || echo b"), "a\n");
    assert_eq!(stdout("false && echo a || echo b"), "b\n");
    assert_eq!(stdout("false || false || echo c"), "c\n");
    assert_eq!(stdout("true || echo no; echo yes"), "yes\n");
}

#[test]
fn variables_and_parameters() {
    assert_eq!(stdout("x=1 y=two; echo $x ${y} \"$x$y\""), "1 two 1two\n");
    assert_eq!(stdout("set -- a 'b c' d; echo $# $1 $2 ${3}"), "3 a b c d\n");
    assert_eq!(stdout("set -- a 'b c'; for i in \"$@\"; do echo \"[$i]\"; done"), "[a]\n[b c]\n");
    assert_eq!(stdout("set -- a 'b c'; for i in $@; do echo \"[$i]\"; done"), "[a]\n[b]\n[c]\n");
    assert_eq!(stdout("set --; for i in \"$@\"; do echo x; done; echo done"), "done\n");
    assert_eq!(stdout("set -- a b; IFS=:; echo \"$*\""), "a:b\n");
    assert_eq!(stdout("echo $$ ${#}"), "4242 0\n");
    assert_eq!(stdout("unset x; echo ${x-unset} ${x:-empty}; x=; echo ${x-unset} ${x:-empty}"), "unset empty\nempty\n");
    assert_eq!(stdout("echo ${x=assigned}; echo $x"), "assigned\nassigned\n");
    assert_eq!(stdout("x=v; echo ${x+alt} ${y+alt} ${#x}"), "alt 1\n");
    assert_eq!(
        stdout("p=/usr/lib/file.tar.gz; echo ${p##*/} ${p%%.*} ${p#*/} ${p%.*}"),
        "file.tar.gz /usr/lib/file usr/lib/file.tar.gz /usr/lib/file.tar\n"
    );
    assert_eq!(stdout("x='a  b'; echo $x; echo \"$x\""), "a b\na  b\n");
    assert_eq!(stdout("x='*'; echo \"$x\" '$x'"), "* $x\n");
}

#[test]
fn expansion_errors_stop_a_script() {
    let result = run("echo ${x?is required}; echo after");
    assert_eq!(result.stdout, "");
    assert_eq!(result.stderr, "msh: x: is required\n");
    assert_eq!(result.status, 2);
    let result = run("set -u; echo $undefined; echo after");
    assert_eq!(result.stderr, "msh: undefined: parameter not set\n");
    assert_eq!(result.status, 2);
    let result = run("echo $((1/0)); echo after");
    assert!(result.stderr.contains("division by zero"), "{}", result.stderr);
}

#[test]
fn field_splitting_with_ifs() {
    assert_eq!(stdout("x='a:b::c'; IFS=:; for f in $x; do echo \"<$f>\"; done"), "<a>\n<b>\n<>\n<c>\n");
    assert_eq!(stdout("x=' a  b '; for f in $x; do echo \"<$f>\"; done"), "<a>\n<b>\n");
    assert_eq!(stdout("x='a b'; IFS=; for f in $x; do echo \"<$f>\"; done"), "<a b>\n");
    assert_eq!(stdout("e=; for f in $e \"\" $e; do echo \"<$f>\"; done"), "<>\n");
}

#[test]
fn arithmetic() {
    assert_eq!(stdout("i=0; while [ $i -lt 3 ]; do i=$((i + 1)); done; echo $i"), "3\n");
    assert_eq!(stdout("echo $(( 7 / 2 )) $(( 7 % 3 )) $(( -(2 + 3) * 2 )) $(( 1 << 4 ))"), "3 1 -10 16\n");
    assert_eq!(stdout("x=5; echo $((x *= 2)) $x $(( x > 5 ? 1 : 0 ))"), "10 10 1\n");
}

#[test]
fn tilde_expansion() {
    assert_eq!(stdout("echo ~ ~/x ~user/y '~' \\~ ~nobody"), "/home/user /home/user/x /home/user/y ~ ~ ~nobody\n");
    assert_eq!(stdout("p=~/a:~/b; echo $p"), "/home/user/a:/home/user/b\n");
}

#[test]
fn control_flow() {
    assert_eq!(stdout("if false; then echo a; elif true; then echo b; else echo c; fi"), "b\n");
    assert_eq!(stdout("for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done"), "1\n3\n");
    assert_eq!(stdout("for i in 1 2 3; do for j in a b; do [ $j = b ] && break 2; echo $i$j; done; done"), "1a\n");
    assert_eq!(stdout("i=0; until [ $i = 2 ]; do i=$((i+1)); echo $i; done"), "1\n2\n");
    assert_eq!(stdout("while true; do while true; do break 2; done; echo no; done; echo out"), "out\n");
    assert_eq!(stdout("for x in a b; do continue; done; echo $x"), "b\n");
    assert_eq!(
        stdout("for w in apple banana 'c d' x.c; do case $w in a*) echo A;; b*|c*) echo BC;; *.c) echo C;; esac; done"),
        "A\nBC\nBC\nC\n"
    );
    assert_eq!(stdout("case 'a*' in 'a*') echo quoted;; a*) echo pattern;; esac"), "quoted\n");
    assert_eq!(stdout("case abc in 'a'*) echo mixed;; esac"), "mixed\n");
    assert_eq!(stdout("x=[; case $x in \\[) echo bracket;; esac"), "bracket\n");
}

#[test]
fn functions_locals_and_return() {
    assert_eq!(stdout("f() { echo \"$# $1\"; return 4; echo no; }; f a b; echo $?"), "2 a\n4\n");
    assert_eq!(stdout("f() { local x=inner; echo $x; }; x=outer; f; echo $x"), "inner\nouter\n");
    assert_eq!(stdout("set -- top; f() { echo $1; }; f inner; echo $1"), "inner\ntop\n");
    assert_eq!(stdout("f() { x=$1; }; f changed; echo $x"), "changed\n");
    assert_eq!(stdout("count() { if [ $1 -gt 0 ]; then echo $1; count $(( $1 - 1 )); fi; }; count 3"), "3\n2\n1\n");
    assert_eq!(stdout("f() { echo $v; }; v=temp f; echo \"[$v]\""), "temp\n[]\n");
    // Runaway recursion is an error. A debug build's frames are far larger
    // than the program's, so this runs on a thread with a large stack.
    let stderr = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(|| run("f() { f; }; f").stderr)
        .expect("a thread")
        .join()
        .expect("no overflow");
    assert!(stderr.contains("nested too deeply"), "{stderr}");
}

#[test]
fn set_e_exits_on_failures_outside_conditions() {
    let result = run("set -e; false; echo no");
    assert_eq!((result.stdout.as_str(), result.status), ("", 1));
    assert_eq!(
        stdout("set -e; if false; then :; fi; false || true; ! true; false && true; echo survived"),
        "survived\n"
    );
    let result = run("set -e; f() { false; echo no; }; f; echo no");
    assert_eq!(result.stdout, "");
}

#[test]
fn redirections_in_the_shell() {
    let result = run("echo one > /tmp/f; echo two >> /tmp/f; cat_like() { while read line; do echo \"<$line>\"; done; }; cat_like < /tmp/f");
    assert_eq!(result.stdout, "<one>\n<two>\n");
    assert_eq!(result.shell.system.file(b"/tmp/f").unwrap(), b"one\ntwo\n");
    // 2>&1 first: standard error goes where standard output went before.
    assert_eq!(stdout("{ echo a; echo b >&2; } 2>&1 > /tmp/out; echo done"), "b\ndone\n");
    let result = run("echo to-err >&2; echo to-out");
    assert_eq!((result.stdout.as_str(), result.stderr.as_str()), ("to-out\n", "to-err\n"));
    let result = run("set -C; echo a > /tmp/x; echo b > /tmp/x; echo c >| /tmp/x");
    assert_eq!(result.stderr, "msh: /tmp/x: cannot overwrite existing file\n");
    assert_eq!(result.shell.system.file(b"/tmp/x").unwrap(), b"c\n");
    let result = run("cat_missing() { :; }; cat_missing < /nope; echo status $?");
    assert_eq!(result.stderr, "msh: /nope: No such file or directory\n");
    assert_eq!(result.stdout, "status 1\n");
    let result = run("echo x >&7; echo $?");
    assert_eq!((result.stdout.as_str(), result.stderr.as_str()), ("1\n", "msh: 7: Bad file descriptor\n"));
    // exec makes redirections permanent.
    let result = run("exec > /tmp/log; echo logged; exec 3</tmp/log; read first <&3; echo \"$first\" >&2");
    assert_eq!(result.stderr, "logged\n");
    assert_eq!(result.shell.system.file(b"/tmp/log").unwrap(), b"logged\n");
}

#[test]
fn here_documents() {
    assert_eq!(
        stdout("x=world; while read line; do echo \"[$line]\"; done <<EOF\nhello $x\n\\$x $(( 1 + 1 ))\nEOF"),
        "[hello world]\n[$x 2]\n"
    );
    assert_eq!(stdout("read a <<'END'\n$x `y`\nEND\necho \"$a\""), "$x `y`\n");
    assert_eq!(stdout("read a <<-END\n\t\ttabs\n\tEND\necho \"$a\""), "tabs\n");
    // Larger than a pipe's guaranteed buffer: needs a writer process, which
    // the model does not have; the error is reported, not hidden.
    let big = "x".repeat(5000);
    let result = run(&alloc::format!("read a <<EOF\n{big}\nEOF\necho $?"));
    assert!(result.stderr.contains("here-document"), "{}", result.stderr);
}

#[test]
fn read_builtin() {
    let result = run_with(
        "read a b; echo \"$a|$b\"; read -r c; echo \"$c\"; read d || echo \"eof [$d]\"",
        "x y z\nback\\slash\npartial",
        |_| {},
    );
    assert_eq!(result.stdout, "x|y z\nback\\slash\neof [partial]\n");
    let result = run_with("read a; echo \"$a\"; read b; echo \"$b\"", "one \\\n two\nthree\n", |_| {});
    assert_eq!(result.stdout, "one  two\nthree\n");
    let result = run_with("IFS=: read a b c; echo \"$a,$b,$c\"", "1:2:3:4\n", |_| {});
    assert_eq!(result.stdout, "1,2,3:4\n");
}

#[test]
fn cd_pwd_and_paths() {
    assert_eq!(stdout("cd /tmp; pwd; cd ..; pwd; cd /home/user; cd -; echo $OLDPWD"), "/tmp\n/\n/\n/home/user\n");
    assert_eq!(stdout("cd; pwd"), "/home/user\n");
    let result = run("cd /nope; echo $?");
    assert_eq!(result.stderr, "msh: cd: /nope: No such file or directory\n");
    assert_eq!(result.stdout, "1\n");
    assert_eq!(stdout("CDPATH=/home; cd user; pwd"), "/home/user\n/home/user\n");
}

#[test]
fn globbing_in_the_model() {
    let result = run_with("cd /tmp; echo *.txt; echo *.none; echo \"*.txt\"; set -f; echo *.txt", "", |system| {
        system.add_file(b"/tmp/b.txt", b"");
        system.add_file(b"/tmp/a.txt", b"");
        system.add_file(b"/tmp/.hidden.txt", b"");
    });
    assert_eq!(result.stdout, "a.txt b.txt\n*.none\n*.txt\n*.txt\n");
}

#[test]
fn test_builtin_in_scripts() {
    assert_eq!(
        stdout("[ -d /tmp ] && echo dir; test -f /tmp || echo notfile; [ 3 -gt 2 -a x = x ] && echo both"),
        "dir\nnotfile\nboth\n"
    );
    let result = run("[ 1 -eq x ]; echo $?; [ a = a; echo $?");
    assert_eq!(result.stdout, "2\n2\n");
    assert_eq!(result.stderr, "msh: [: x: integer expression expected\nmsh: [: missing `]'\n");
}

#[test]
fn builtins_export_unset_set_shift() {
    assert_eq!(stdout("export A=1; export -p > /dev/null; unset A; echo \"[${A-gone}]\""), "[gone]\n");
    let result = run("readonly R=1; R=2; echo $R");
    assert_eq!(result.stderr, "msh: R: is read only\n");
    assert_eq!(stdout("set -- a b c; shift; echo $*; shift 2; echo $#"), "b c\n0\n");
    let result = run("set -- a; shift 2 || echo no; echo after");
    assert_eq!((result.stdout.as_str(), result.status), ("", 2), "a failed special builtin ends a script");
    assert_eq!(stdout("f() { echo f; }; unset -f f; type f >/dev/null 2>&1 || echo gone"), "gone\n");
    let result = run("set -x; x=1 echo \"a b\"; set +x; echo $-");
    assert_eq!(result.stderr, "+ x=1 echo 'a b'\n+ set +x\n");
    assert_eq!(result.stdout, "a b\n\n");
    assert_eq!(stdout("set -eu; echo $-; set +eu"), "eu\n");
}

#[test]
fn eval_source_and_command() {
    assert_eq!(stdout("eval 'x=5; echo $x'; eval echo '$x'"), "5\n5\n");
    let result = run_with(". /tmp/lib.sh a b; echo $greeting $#", "", |system| {
        system.add_file(b"/tmp/lib.sh", b"greeting=\"hi $1\"\nreturn 0\necho unreachable\n");
    });
    assert_eq!(result.stdout, "hi a 0\n");
    assert_eq!(stdout("echo() { printf_no; }; command echo direct"), "direct\n");
    assert_eq!(stdout("command -v echo cd; command -v nonexistent || echo none"), "echo\ncd\nnone\n");
    assert_eq!(
        stdout("type echo if set"),
        "echo is a shell builtin\nif is a shell keyword\nset is a special shell builtin\n"
    );
    assert_eq!(stdout("f() { echo hi; }; type f"), "f is a function\nf() {\n    echo hi\n}\n");
}

#[test]
fn syntax_errors_in_scripts() {
    let result = run("echo before\nif then\necho after");
    assert_eq!(result.stdout, "before\n");
    assert_eq!(result.status, 2);
    assert_eq!(result.stderr, "msh: 2: syntax error near unexpected token `then'\n");
    let result = run("eval 'echo ('; echo after");
    assert_eq!(result.status, 2);
}

#[test]
fn commands_without_processes_fail_loudly() {
    let result = run("nonexistent_command arg; echo $?");
    assert_eq!(result.stderr, "msh: nonexistent_command: command not found\n");
    assert_eq!(result.stdout, "127\n");
    // The model cannot start processes: a command substitution reports it.
    let result = run("x=$(echo hi); echo after");
    assert!(result.stderr.contains("fork"), "{}", result.stderr);
}

#[test]
fn umask_builtin() {
    assert_eq!(
        stdout("umask; umask 077; umask; umask -S; umask u=rwx,g=rx,o=; umask"),
        "0022\n0077\nu=rwx,g=,o=\n0027\n"
    );
}

#[test]
fn getopts_builtin() {
    let script = "while getopts ab:c o; do echo \"$o ${OPTARG-}\"; done; shift $((OPTIND - 1)); echo \"rest $*\"";
    let result = run(&alloc::format!("set -- -ab x -c file; {script}"));
    assert_eq!(result.stdout, "a \nb x\nc \nrest file\n");
    let result = run(&alloc::format!("set -- -z -b; {script}"));
    assert_eq!(result.stdout, "? \n? \nrest \n");
    assert_eq!(result.stderr, "msh: illegal option -- z\nmsh: option requires an argument -- b\n");
    assert_eq!(stdout("getopts :x: o -x; echo \"$o $OPTARG $OPTIND\""), ": x 2\n");
}

#[test]
fn trap_builtin_and_exit_trap() {
    let result = run("trap 'echo bye $?' EXIT; trap '' INT; trap; false");
    assert_eq!(result.stdout, "trap -- 'echo bye $?' EXIT\ntrap -- '' INT\n");
    let mut shell = result.shell;
    assert_eq!(shell.run_exit_trap(1), 1);
    assert!(shell.system.stdout.borrow().ends_with(b"bye 1\n"));
    let result = run("trap 'echo x' KILL");
    assert_eq!(result.stderr, "msh: trap: KILL: cannot be trapped\n");
}

/// `msh` run as a program in the model (`main` with argv and environment):
/// standard output, standard error and the status.
fn program(
    arguments: &[&str],
    environment: &[&str],
    prepare: impl FnOnce(&mut crate::model::ModelSystem),
) -> (alloc::string::String, alloc::string::String, i32) {
    let mut system = crate::model::ModelSystem::new(b"");
    prepare(&mut system);
    let (out, error) = (system.stdout.clone(), system.stderr.clone());
    let arguments: alloc::vec::Vec<alloc::vec::Vec<u8>> =
        arguments.iter().map(|argument| argument.as_bytes().to_vec()).collect();
    let environment: alloc::vec::Vec<alloc::vec::Vec<u8>> =
        environment.iter().map(|entry| entry.as_bytes().to_vec()).collect();
    let status = crate::interactive::main(system, &arguments, &environment);
    let text = |bytes: &alloc::rc::Rc<core::cell::RefCell<alloc::vec::Vec<u8>>>| {
        alloc::string::String::from_utf8_lossy(&bytes.borrow()).into_owned()
    };
    (text(&out), text(&error), status)
}

const LOGIN_CHECK: &str = "echo \"$HOME $USER $LOGNAME $SHELL\"; pwd; echo \"$PATH $FROM_ETC $FROM_HOME\"";

fn profiles(system: &mut crate::model::ModelSystem) {
    system.add_file(b"/etc/profile", b"PATH=/bin:/usr/bin; export PATH\nFROM_ETC=etc\nFROM_HOME=etc\n");
    system.add_file(b"/home/user/.profile", b"FROM_HOME=home\n");
}

#[test]
fn a_login_shell_takes_its_account_and_reads_the_profiles() {
    // As init starts it: argv[0] "-msh", no HOME: the password entry's.
    let (out, error, status) = program(&["-msh", "-c", LOGIN_CHECK], &["PATH=/bin", "PWD=/"], |system| {
        system.add_directory(b"/etc");
        profiles(system);
    });
    assert_eq!((error.as_str(), status), ("", 0));
    assert_eq!(out, "/home/user user user /bin/msh\n/home/user\n/bin:/usr/bin etc home\n");
}

#[test]
fn a_login_shell_keeps_what_the_environment_gives() {
    let (out, error, status) =
        program(&["msh", "-l", "-c", LOGIN_CHECK], &["HOME=/tmp", "USER=other", "PWD=/"], |system| {
            system.add_directory(b"/etc");
            profiles(system);
        });
    // HOME given: no change of directory, and /tmp has no .profile.
    assert_eq!((error.as_str(), status), ("", 0));
    assert_eq!(out, "/tmp other user /bin/msh\n/\n/bin:/usr/bin etc etc\n");
}

#[test]
fn a_missing_home_is_reported_and_the_shell_stays_where_it_was() {
    let (out, error, status) =
        program(&["-msh", "-c", "pwd; echo $HOME"], &["PWD=/"], |system| system.remove_directory(b"/home/user"));
    assert_eq!(status, 0);
    assert_eq!(out, "/\n/home/user\n");
    assert_eq!(error, "msh: cd: /home/user: No such file or directory\n");
}

#[test]
fn a_shell_that_is_not_a_login_shell_reads_no_profile() {
    let (out, _, _) = program(&["msh", "-c", LOGIN_CHECK], &["PWD=/"], |system| {
        system.add_directory(b"/etc");
        profiles(system);
    });
    assert_eq!(out, "   \n/\n  \n");
}
