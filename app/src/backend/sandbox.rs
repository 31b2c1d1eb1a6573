//! Templates users wrote run in a child process with limits, not in the server.
//!
//! A notifier's message template is a small program: minijinja's fuel bounds how many
//! instructions it runs and the output cap how much it writes, but nothing in-process bounds
//! the memory an expression allocates (`'x' * 100000000`, doubled six times, took 4.9 GB and
//! then the process) or the stack a deep expression needs (`x.a.a…` two thousand times
//! aborted the server). So a template that is not one of Promgen's is rendered by
//! `promgen sandbox-render`, the same binary, which limits its own memory, CPU time and output
//! before it reads the template, renders on a thread with a large stack, and answers on
//! stdout. Whatever the template does, only the child dies, and the caller hears why.
//!
//! Without a program (a library user, most tests) rendering happens in-process.

use super::notify::message::Shape;
use crate::model::WebhookMessage;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// The private memory a child may allocate (heap and stacks; `RLIMIT_DATA`).
const MEMORY_BYTES: u64 = 768 << 20;
/// CPU seconds a child may use.
const CPU_SECONDS: u64 = 10;
/// The stack of the thread that renders.
const STACK_BYTES: usize = 128 << 20;
/// The longest answer read back (the message cap, escaped as JSON, and some).
const ANSWER_BYTES: usize = 8 << 20;

/// The verb the binary answers to as a sandbox.
pub const VERB: &str = "sandbox-render";

#[derive(Serialize, Deserialize)]
struct Request {
    template: String,
    data: WebhookMessage,
    shape: Shape,
}

#[derive(Serialize, Deserialize)]
enum Answer {
    Rendered(String),
    Failed(String),
}

/// Where untrusted templates are rendered.
#[derive(Clone, Debug, Default)]
pub struct Sandbox {
    /// The `promgen` binary to run as `promgen sandbox-render`; `None` renders in-process.
    program: Option<PathBuf>,
}

impl Sandbox {
    pub fn new(program: Option<PathBuf>) -> Sandbox {
        Sandbox { program }
    }

    /// Renders `template` over `data` (see [`super::notify::message::render`]); the error says
    /// what is wrong with the template, or that it was stopped.
    pub async fn render(
        &self,
        template: &str,
        data: &WebhookMessage,
        shape: Shape,
        deadline: Duration,
    ) -> Result<String, String> {
        let Some(program) = &self.program else {
            return super::notify::message::render(template, data, shape);
        };
        let request = serde_json::to_vec(&Request { template: template.to_string(), data: data.clone(), shape })
            .map_err(|e| format!("the message could not be prepared: {e}"))?;
        let run = async {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut child = tokio::process::Command::new(program)
                .arg(VERB)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::null())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("the template sandbox cannot start: {e}"))?;
            let mut stdin = child.stdin.take().expect("piped");
            stdin.write_all(&request).await.map_err(|e| format!("the template sandbox did not take the job: {e}"))?;
            drop(stdin);
            let mut out = Vec::new();
            let stdout = child.stdout.take().expect("piped");
            stdout
                .take(ANSWER_BYTES as u64)
                .read_to_end(&mut out)
                .await
                .map_err(|e| format!("the template sandbox did not answer: {e}"))?;
            let status = child.wait().await.map_err(|e| e.to_string())?;
            match serde_json::from_slice::<Answer>(&out) {
                Ok(Answer::Rendered(text)) => Ok(text),
                Ok(Answer::Failed(why)) => Err(why),
                Err(_) => Err(format!(
                    "the message template was stopped: it needs more than {} MiB of memory, {CPU_SECONDS} s of CPU \
                     or its nesting is too deep ({status})",
                    MEMORY_BYTES >> 20
                )),
            }
        };
        match tokio::time::timeout(deadline, run).await {
            Ok(result) => result,
            Err(_) => Err(format!("the message template was stopped: it ran longer than {} s", deadline.as_secs())),
        }
    }
}

/// The child's side (`promgen sandbox-render`): limits itself, reads a request on stdin,
/// renders it and writes the answer on stdout. Returns the exit code.
pub fn serve_child() -> i32 {
    use rlimit::Resource;
    // Before reading anything a user wrote.
    let limited = Resource::DATA.set(MEMORY_BYTES, MEMORY_BYTES).is_ok()
        && Resource::CPU.set(CPU_SECONDS, CPU_SECONDS).is_ok()
        && Resource::CORE.set(0, 0).is_ok();
    if !limited {
        return 2;
    }
    let mut input = Vec::new();
    if std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut input).is_err() {
        return 2;
    }
    let answer = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(move || match serde_json::from_slice::<Request>(&input) {
            Ok(r) => match super::notify::message::render(&r.template, &r.data, r.shape) {
                Ok(text) => Answer::Rendered(text),
                Err(why) => Answer::Failed(why),
            },
            Err(e) => Answer::Failed(format!("the sandbox could not read its job: {e}")),
        })
        .map_err(|_| ())
        .and_then(|t| t.join().map_err(|_| ()));
    let Ok(answer) = answer else { return 3 };
    match serde_json::to_writer(std::io::stdout().lock(), &answer) {
        Ok(()) => 0,
        Err(_) => 3,
    }
}
