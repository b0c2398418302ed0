//! The `echo` test server, shared by the tests of the generated code: it
//! sends every argument back, reports what it knows of each request, and
//! keeps `wait` requests until `release` answers them (a deferred reply).
#![allow(dead_code)]

use std::cell::RefCell;
use std::rc::Rc;

use libmach::fake::{FakeKernel, FakeSystem};
use libmach::{
    Answer, BoundedArray, BoundedBytes, BoundedString, Context, ReceiveRight, SendOnceRight, SendRight, ServeOptions,
};
use mach_kv_example::echo;

/// How `wait` misbehaves, to test what the dispatch does about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misuse {
    None,
    /// Returns `Answer::Later` without keeping the reply right.
    LaterWithoutKeeping,
    /// Keeps the reply right and answers now anyway.
    KeepAndAnswerNow,
}

/// Echoes everything; remembers the last `note`.
pub struct Echo {
    pub notes: Vec<u64>,
    pub kernel: FakeKernel,
    /// Values `release` gave that no `wait` took yet.
    pub mailbox: Vec<(u32, u64)>,
    /// `wait` requests kept for later, by key.
    pub waiting: Vec<(u32, echo::PendingWait<FakeKernel>)>,
    /// The ports behind the tokens answers carry.
    pub tokens: Vec<ReceiveRight<FakeKernel>>,
    /// Ask `is_abandoned` before answering a kept request (else only the
    /// failed send tells).
    pub check_abandoned: bool,
    /// Kept requests found abandoned before answering.
    pub abandoned: u32,
    /// Answers whose send failed (the result came back).
    pub failed_sends: u32,
    pub misuse: Misuse,
}

impl Echo {
    pub fn new(kernel: &FakeKernel) -> Echo {
        Echo {
            notes: Vec::new(),
            kernel: kernel.clone(),
            mailbox: Vec::new(),
            waiting: Vec::new(),
            tokens: Vec::new(),
            check_abandoned: true,
            abandoned: 0,
            failed_sends: 0,
            misuse: Misuse::None,
        }
    }

    /// A send right to a new port of the server's: what answers carry.
    fn token(&mut self) -> Result<SendRight<FakeKernel>, echo::Error> {
        let port = ReceiveRight::allocate(&self.kernel).map_err(|_| echo::Error::Refused)?;
        let send = port.make_send().map_err(|_| echo::Error::Refused)?;
        self.tokens.push(port);
        Ok(send)
    }
}

impl echo::Server<FakeKernel> for Echo {
    fn integers(
        &mut self,
        _context: &Context<'_, FakeKernel>,
        a: u8,
        b: u16,
        c: u32,
        d: u64,
        e: i8,
        f: i16,
        g: i32,
        h: i64,
        i: bool,
    ) -> Result<echo::IntegersReply, echo::Error> {
        Ok(echo::IntegersReply { ra: a, rb: b, rc: c, rd: d, re: e, rf: f, rg: g, rh: h, ri: i })
    }

    fn texts(
        &mut self,
        _context: &Context<'_, FakeKernel>,
        text: &str,
        data: &[u8],
    ) -> Result<echo::TextsReply, echo::Error> {
        Ok(echo::TextsReply {
            rtext: BoundedString::try_from_str(text).ok_or(echo::Error::Refused)?,
            rdata: BoundedBytes::from_slice(data).ok_or(echo::Error::Refused)?,
        })
    }

    fn nothing(&mut self, _context: &Context<'_, FakeKernel>) -> Result<(), echo::Error> {
        Ok(())
    }

    fn rights(
        &mut self,
        _context: &Context<'_, FakeKernel>,
        made: SendRight<FakeKernel>,
        copied: SendRight<FakeKernel>,
        made_once: SendOnceRight<FakeKernel>,
        moved_once: SendOnceRight<FakeKernel>,
        moved_receive: ReceiveRight<FakeKernel>,
    ) -> Result<echo::RightsReply<FakeKernel>, echo::Error> {
        drop(copied);
        drop(moved_once);
        Ok(echo::RightsReply { back_send: made, back_once: made_once, back_receive: moved_receive })
    }

    fn even(&mut self, _context: &Context<'_, FakeKernel>, number: u32) -> Result<u32, echo::Error> {
        match number {
            0 => Err(echo::Error::Refused),
            odd if odd % 2 == 1 => Err(echo::Error::Odd),
            even => Ok(even / 2),
        }
    }

    fn after_skip(&mut self, _context: &Context<'_, FakeKernel>) -> Result<i32, echo::Error> {
        Ok(echo::id::AFTER_SKIP)
    }

    fn note(&mut self, _context: &Context<'_, FakeKernel>, value: u64) {
        self.notes.push(value);
    }

    fn reflect(
        &mut self,
        _context: &Context<'_, FakeKernel>,
        data: libmach::message::OutOfLineData<FakeKernel>,
    ) -> Result<libmach::message::OutOfLineData<FakeKernel>, echo::Error> {
        let mut copy = libmach::message::OutOfLineData::allocate(&self.kernel, data.len() as u32)
            .map_err(|_| echo::Error::Refused)?;
        copy.bytes_mut().copy_from_slice(data.bytes());
        Ok(copy)
    }

    fn records(
        &mut self,
        _context: &Context<'_, FakeKernel>,
        one: &echo::Record,
        many: &[echo::Record],
    ) -> Result<echo::RecordsReply, echo::Error> {
        Ok(echo::RecordsReply { rone: *one, rmany: BoundedArray::from_slice(many).ok_or(echo::Error::Refused)? })
    }

    fn arrays(
        &mut self,
        _context: &Context<'_, FakeKernel>,
        small: &[u8],
        halves: &[i16],
        words: &[u32],
        longs: &[i64],
        flags: &[bool],
    ) -> Result<echo::ArraysReply, echo::Error> {
        Ok(echo::ArraysReply {
            rsmall: BoundedArray::from_slice(small).ok_or(echo::Error::Refused)?,
            rhalves: BoundedArray::from_slice(halves).ok_or(echo::Error::Refused)?,
            rwords: BoundedArray::from_slice(words).ok_or(echo::Error::Refused)?,
            rlongs: BoundedArray::from_slice(longs).ok_or(echo::Error::Refused)?,
            rflags: BoundedArray::from_slice(flags).ok_or(echo::Error::Refused)?,
        })
    }

    fn optional_rights(
        &mut self,
        _context: &Context<'_, FakeKernel>,
        maybe_moved: Option<SendRight<FakeKernel>>,
        maybe_made: Option<SendRight<FakeKernel>>,
        maybe_copied: Option<SendRight<FakeKernel>>,
    ) -> Result<echo::OptionalRightsReply<FakeKernel>, echo::Error> {
        let present = [maybe_moved.is_some(), maybe_made.is_some(), maybe_copied.is_some()];
        Ok(echo::OptionalRightsReply {
            back: maybe_moved,
            present: present.iter().filter(|present| **present).count() as u32,
        })
    }

    fn whoami(
        &mut self,
        context: &Context<'_, FakeKernel>,
        _claimed_uid: u32,
    ) -> Result<echo::WhoamiReply, echo::Error> {
        let credential = context.credential();
        let groups =
            credential.as_ref().map_or(&[][..], |credential| &credential.groups[..credential.group_count as usize]);
        Ok(echo::WhoamiReply {
            port: context.port(),
            sender: context.sender().unwrap_or(u32::MAX),
            audited: credential.is_some(),
            euid: credential.map_or(u32::MAX, |credential| credential.euid),
            groups: BoundedArray::from_slice(groups).ok_or(echo::Error::Refused)?,
        })
    }

    fn wait(
        &mut self,
        context: &Context<'_, FakeKernel>,
        key: u32,
    ) -> Result<Answer<echo::WaitReply<FakeKernel>>, echo::Error> {
        match self.misuse {
            Misuse::LaterWithoutKeeping => return Ok(Answer::Later),
            Misuse::KeepAndAnswerNow => {
                let pending = echo::PendingWait::keep(context).ok_or(echo::Error::Refused)?;
                self.waiting.push((key, pending));
                return Ok(Answer::Now(echo::WaitReply { value: 0, token: None }));
            }
            Misuse::None => {}
        }
        if let Some(index) = self.mailbox.iter().position(|(waiting_key, _)| *waiting_key == key) {
            let (_, value) = self.mailbox.remove(index);
            return Ok(Answer::Now(echo::WaitReply { value, token: Some(self.token()?) }));
        }
        let pending = echo::PendingWait::keep(context).ok_or(echo::Error::Refused)?;
        self.waiting.push((key, pending));
        Ok(Answer::Later)
    }

    fn long_records(
        &mut self,
        _context: &Context<'_, FakeKernel>,
        value: &echo::LongRecord,
    ) -> Result<echo::LongRecord, echo::Error> {
        Ok(*value)
    }

    fn release(&mut self, _context: &Context<'_, FakeKernel>, key: u32, value: u64) {
        while let Some(index) = self.waiting.iter().position(|(waiting_key, _)| *waiting_key == key) {
            let (_, pending) = self.waiting.remove(index);
            if self.check_abandoned && pending.is_abandoned() {
                // Nobody waits: take nothing for it (dropping it releases the dead name).
                self.abandoned += 1;
                continue;
            }
            let Ok(token) = self.token() else { break };
            match pending.send(Ok(echo::WaitReply { value, token: Some(token) })) {
                Ok(()) => return,
                Err(failed) => {
                    // The client is gone: the value is still ours (and the token right, dropped here).
                    self.failed_sends += 1;
                    assert!(matches!(failed.result, Ok(echo::WaitReply { value: returned, .. }) if returned == value));
                }
            }
        }
        self.mailbox.push((key, value));
    }
}

pub struct Fixture {
    pub system: FakeSystem,
    pub server_task: FakeKernel,
    pub client_task: FakeKernel,
    pub server: Rc<RefCell<Echo>>,
    pub client: echo::Client<FakeKernel>,
    pub service: ReceiveRight<FakeKernel>,
}

/// An echo server in one fake task, a client of it in another.
pub fn fixture() -> Fixture {
    fixture_with(ServeOptions::default())
}

/// [`fixture`], the server receiving with `options`.
pub fn fixture_with(options: ServeOptions) -> Fixture {
    let system = FakeSystem::new();
    let server_task = system.task();
    let client_task = system.task();
    let service = ReceiveRight::allocate(&server_task).unwrap();
    let server = Rc::new(RefCell::new(Echo::new(&server_task)));
    let handler_server = server.clone();
    let handler_kernel = server_task.clone();
    system.attach_server_with(&server_task, service.name(), options, echo::BUFFER_SIZE, move |request, reply| {
        echo::dispatch(&mut *handler_server.borrow_mut(), &handler_kernel, request, reply)
    });
    let send = system.give_send_right(&server_task, service.name(), &client_task).unwrap();
    let client = echo::Client::new(&client_task, SendRight::from_name(&client_task, send)).unwrap();
    Fixture { system, server_task, client_task, server, client, service }
}

/// Cases per property: `MACH_PROPTEST_CASES` (set by `scripts/fuzz.d/idl`
/// for long runs), else a default that keeps the suite fast.
pub fn cases(default: u32) -> u32 {
    std::env::var("MACH_PROPTEST_CASES").ok().and_then(|text| text.parse().ok()).unwrap_or(default)
}
