//! One module per tool; `ALL` is the table `run` dispatches on.

use crate::Tool;

pub mod cat;
pub mod cut;
pub mod echo;
pub mod head;
pub mod pwd;
pub mod sleep;
pub mod sort;
pub mod tail;
pub mod tee;
pub mod tr;
pub mod truth;
pub mod uniq;
pub mod wc;

/// Every tool, by name.
pub static ALL: &[Tool] = &[
    Tool { name: "cat", main: cat::main },
    Tool { name: "cut", main: cut::main },
    Tool { name: "echo", main: echo::main },
    Tool { name: "false", main: truth::false_main },
    Tool { name: "head", main: head::main },
    Tool { name: "pwd", main: pwd::main },
    Tool { name: "sleep", main: sleep::main },
    Tool { name: "sort", main: sort::main },
    Tool { name: "tail", main: tail::main },
    Tool { name: "tee", main: tee::main },
    Tool { name: "tr", main: tr::main },
    Tool { name: "true", main: truth::true_main },
    Tool { name: "uniq", main: uniq::main },
    Tool { name: "wc", main: wc::main },
];
