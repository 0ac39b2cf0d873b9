//! An async host for tokio (feature `tokio`): the engine on a thread of its own,
//! effects performed as tokio tasks, time moved on by the host's clock.
//!
//! The engine is a synchronous state machine whose store may block (SQLite), so it
//! does not run on the runtime's workers: one thread owns it and takes commands from
//! a channel — an event to handle, an effect's answer, a tick. After each command it
//! takes the effects the outbox holds and spawns one task per effect; the task's
//! answer comes back through the same channel, so the engine sees every answer in
//! one order, and a slow Slack call holds up nothing but itself.

use std::future::Future;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::{mpsc as tokio_mpsc, oneshot};

use super::effect::{Effect, Outcome};
use super::run::RunRecord;
use super::{Engine, EngineError};

/// The longest the engine thread sleeps without looking at its clock, so a clock
/// moved from outside (a test's [`super::ManualClock`]) is noticed.
const LONGEST_SLEEP: Duration = Duration::from_secs(1);

/// The host's effect function, boxed.
type Perform =
    Arc<dyn Fn(Effect) -> std::pin::Pin<Box<dyn Future<Output = Outcome> + Send>> + Send + Sync>;

/// A boxed call on the engine, run on its thread.
type Call = Box<dyn FnOnce(&mut Engine) + Send>;

/// What the engine thread is asked to do.
enum Command {
    /// Run a call on the engine and answer through its channel.
    Call(Call),
    /// A spawned effect's answer.
    Answered(String, Outcome),
    /// Stop taking effects, wait for those in flight, then end.
    Drain,
}

/// What the engine did that no caller asked for: runs that went on after an effect's
/// answer or at a tick, and errors met there.
pub type Background = Result<Vec<RunRecord>, EngineError>;

/// The engine, driven on its own thread: effects performed concurrently by an async
/// function, answers and time fed back in. Cheap to share behind an [`Arc`].
///
/// The engine must be built with [`super::Builder::outbox`]: an engine that calls
/// handlers inline would perform them on the engine thread, one at a time.
pub struct AsyncHost {
    commands: mpsc::Sender<Command>,
    thread: std::sync::Mutex<Option<JoinHandle<Engine>>>,
}

impl AsyncHost {
    /// Starts `engine` on a thread of its own; every effect is performed by
    /// `perform`, as a task on the current tokio runtime (call this inside one).
    /// Runs that go on in the background, and errors met there, arrive on the
    /// receiver; dropping it discards them (run records are in the store anyway).
    pub fn start<F, Fut>(
        engine: Engine,
        perform: F,
    ) -> (AsyncHost, tokio_mpsc::UnboundedReceiver<Background>)
    where
        F: Fn(Effect) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + Send + 'static,
    {
        let (commands, inbox) = mpsc::channel();
        let (background, runs) = tokio_mpsc::unbounded_channel();
        let runtime = tokio::runtime::Handle::current();
        let answers = commands.clone();
        let perform: Perform = Arc::new(move |effect| Box::pin(perform(effect)));
        let thread = std::thread::spawn(move || {
            let mut driver = Driver {
                engine,
                inbox,
                answers,
                background,
                runtime,
                perform,
                in_flight: 0,
                draining: false,
            };
            driver.run();
            driver.engine
        });
        let host = AsyncHost {
            commands,
            thread: std::sync::Mutex::new(Some(thread)),
        };
        (host, runs)
    }

    /// Runs `f` on the engine, on its thread, and answers with its result: the one
    /// way in for everything the other methods do not cover (`fire`, `outbox`,
    /// `history`, `evaluate`).
    pub async fn with<R, F>(&self, f: F) -> Result<R, EngineError>
    where
        F: FnOnce(&mut Engine) -> R + Send + 'static,
        R: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let call: Call = Box::new(move |engine| {
            let _ = reply.send(f(engine));
        });
        self.commands
            .send(Command::Call(call))
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())
    }

    /// Handles an event given as JSON (see [`Engine::handle_json`]); its effects are
    /// performed in the background.
    pub async fn handle_json(&self, json: String) -> Result<Vec<RunRecord>, EngineError> {
        self.with(move |engine| engine.handle_json(&json)).await?
    }

    /// Moves time to the clock's now (see [`Engine::tick`]). The host ticks on its
    /// own; this is for a caller that moved the clock.
    pub async fn tick(&self) -> Result<Vec<RunRecord>, EngineError> {
        self.with(Engine::tick).await?
    }

    /// Answers a deferred step of a waiting run (see [`Engine::resume`]).
    pub async fn resume(
        &self,
        run: String,
        answer: serde_json::Value,
    ) -> Result<Vec<RunRecord>, EngineError> {
        self.with(move |engine| engine.resume(&run, answer)).await?
    }

    /// Answers a deferred effect by its key (see [`Engine::settle`]).
    pub async fn settle(
        &self,
        effect: String,
        result: Result<serde_json::Value, String>,
    ) -> Result<Vec<RunRecord>, EngineError> {
        self.with(move |engine| engine.settle(&effect, result))
            .await?
    }

    /// Stops: takes no more effects from the outbox, waits for those being performed
    /// to be answered, commits, and hands the engine back. Effects not yet taken stay
    /// in the outbox, handed out by the next host on the same store.
    pub async fn drain(&self) -> Result<Engine, EngineError> {
        let _ = self.commands.send(Command::Drain);
        let thread = self
            .thread
            .lock()
            .map_err(|_| stopped())?
            .take()
            .ok_or_else(stopped)?;
        let mut engine = tokio::task::spawn_blocking(move || thread.join())
            .await
            .map_err(|_| stopped())?
            .map_err(|_| stopped())?;
        engine.flush()?;
        Ok(engine)
    }
}

impl Drop for AsyncHost {
    /// A host dropped without [`AsyncHost::drain`] drains all the same: its thread
    /// ends once the effects in flight are answered.
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Drain);
    }
}

fn stopped() -> EngineError {
    EngineError::Stopped
}

/// The engine thread's state.
struct Driver {
    engine: Engine,
    inbox: mpsc::Receiver<Command>,
    answers: mpsc::Sender<Command>,
    background: tokio_mpsc::UnboundedSender<Background>,
    runtime: tokio::runtime::Handle,
    perform: Perform,
    in_flight: usize,
    draining: bool,
}

/// The most commands the engine's thread takes before it hands out effects.
const MOST_AT_ONCE: usize = 256;

impl Driver {
    fn run(&mut self) {
        loop {
            if self.draining && self.in_flight == 0 {
                return;
            }
            let sleep = self.sleep();
            let mut next = Some(self.inbox.recv_timeout(sleep));
            let mut taken = 0;
            let mut ticked = false;
            // Whatever else is waiting is taken too before the effects it led to are
            // handed out: under load, one commit for many answers, not one each.
            while let Some(command) = next.take() {
                match command {
                    Ok(Command::Call(call)) => call(&mut self.engine),
                    Ok(Command::Answered(key, outcome)) => {
                        self.in_flight = self.in_flight.saturating_sub(1);
                        let done = self.engine.complete(&key, outcome);
                        self.report(done);
                    }
                    Ok(Command::Drain) => self.draining = true,
                    Err(RecvTimeoutError::Timeout) => {
                        let done = self.engine.tick();
                        self.report(done);
                        ticked = true;
                    }
                    // Every sender is gone, including the one the tasks hold: nothing
                    // can answer any more.
                    Err(RecvTimeoutError::Disconnected) => return,
                }
                taken += 1;
                if taken < MOST_AT_ONCE {
                    next = self.inbox.try_recv().ok().map(Ok);
                }
            }
            // Under a steady stream of commands the wait above never times out:
            // what is due (waits, retries, schedules) runs anyway.
            if !ticked && self.sleep().is_zero() {
                let done = self.engine.tick();
                self.report(done);
            }
            if !self.draining {
                self.perform_pending();
            }
        }
    }

    /// How long to wait for a command before ticking.
    fn sleep(&mut self) -> Duration {
        let now = self.engine.clock.now();
        match self.engine.next_due() {
            Ok(Some(due)) if due <= now => Duration::ZERO,
            Ok(Some(due)) => (due - now)
                .to_std()
                .unwrap_or(LONGEST_SLEEP)
                .min(LONGEST_SLEEP),
            _ => LONGEST_SLEEP,
        }
    }

    /// Hands every effect the outbox holds to a task of its own.
    fn perform_pending(&mut self) {
        let effects = match self.engine.take_effects() {
            Ok(effects) => effects,
            Err(e) => return self.report(Err(e)),
        };
        for effect in effects {
            self.in_flight += 1;
            let key = effect.key.clone();
            let perform = self.perform.clone();
            let answers = self.answers.clone();
            self.runtime.spawn(async move {
                // A task that panics must still answer, or the run would wait forever.
                let outcome = match tokio::spawn(async move { perform(effect).await }).await {
                    Ok(outcome) => outcome,
                    Err(e) => Outcome::fail(format!("the effect's task failed: {e}")),
                };
                let _ = answers.send(Command::Answered(key, outcome));
            });
        }
    }

    fn report(&self, result: Background) {
        if matches!(&result, Ok(runs) if runs.is_empty()) {
            return;
        }
        let _ = self.background.send(result);
    }
}
