//! true and false: exit 0 and 1, whatever the arguments.

pub fn true_main(_arguments: &[&'static [u8]]) -> i32 {
    0
}

pub fn false_main(_arguments: &[&'static [u8]]) -> i32 {
    1
}
