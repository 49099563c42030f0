//! What crosses a Rust engine's boundary, whichever engine it is (the local evcxr thread of
//! [`crate::engine`], or a warm spare in another process, [`crate::warm`]): the events user code
//! produces, why code gave no result, the engine's state, and the input prompts and output
//! channels of one execution. The events, errors and state are serialisable: the warm engine's
//! protocol carries them.

use tokio::sync::mpsc;

/// Something user code produced while running.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum EngineEvent {
    Stdout(String),
    Stderr(String),
    Display {
        mime: String,
        data: String,
    },
    ClearOutput {
        wait: bool,
    },
    /// A value asked for by `{var}` in a magic line (`kelp::value`).
    Value(String),
}

/// Why Rust code did not produce a result.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum EngineError {
    /// rustc rejected the code: rendered diagnostics, one string each.
    Compile(Vec<String>),
    /// The code ran and failed (panic, `?` error), or evcxr refused it.
    Runtime(String),
    /// The code panicked; evcxr caught it (variables from before the cell are kept).
    Panic(String),
    /// The child process died; evcxr restarted it and the variables are gone.
    Died(String),
    /// The engine could not start (no cargo/rustc, …).
    Unavailable(String),
}

/// A prompt from user code (`evcxr_input`), answered through the stdin channel.
pub struct InputAsk {
    pub prompt: String,
    pub password: bool,
    pub answer: std::sync::mpsc::Sender<String>,
}

/// Where one execution sends its side output and input prompts.
pub struct ExecIo {
    pub events: mpsc::UnboundedSender<EngineEvent>,
    pub input: Option<mpsc::UnboundedSender<InputAsk>>,
}

/// Whether the engine can take code.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineState {
    Starting,
    Ready,
    Failed(String),
}
