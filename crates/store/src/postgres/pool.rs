//! A small connection pool: at most `size` clients, handed out one caller at a time.
//!
//! A new client gets the store's schema first on its search path. A client found closed
//! (the server restarted, the network dropped) is not put back, so the next caller
//! connects afresh; one idle for a while is asked first whether it still answers (an
//! idle timeout, a pooler or a failover closes connections nobody uses, and the client
//! learns it only from its next statement, which then failed). The sync `postgres` client drives its own tokio runtime, so it must
//! be neither used nor dropped on a thread that runs async tasks: [`drop_clients`] moves
//! them to a plain thread when needed.

use super::tls::Tls;
use crate::{Result, StoreError};
use postgres::{Client, Config, NoTls};
use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How long a caller waits for a free connection before giving up.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(60);

/// An idle client older than this is checked with a round trip before it is handed out.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(2);

/// How long that check waits for the server.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Pool {
    config: Config,
    tls: Tls,
    schema: Option<String>,
    size: usize,
    shown: String,
    state: Mutex<State>,
    freed: Condvar,
}

struct State {
    /// Clients given back, with when.
    idle: Vec<(Client, Instant)>,
    open: usize,
}

impl Pool {
    pub fn new(
        config: Config,
        tls: Tls,
        schema: Option<String>,
        size: usize,
        shown: String,
    ) -> Pool {
        Pool {
            config,
            tls,
            schema,
            size: size.max(1),
            shown,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is two plain fields, consistent whenever a panic can strike.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A client: an idle one, a new one while fewer than `size` are open, or the next one
    /// given back.
    pub fn get(&self) -> Result<Pooled<'_>> {
        let mut state = self.lock();
        loop {
            if let Some((mut client, since)) = state.idle.pop() {
                drop(state);
                let gone = client.is_closed()
                    || (since.elapsed() >= CHECK_AFTER_IDLE
                        && client.is_valid(CHECK_TIMEOUT).is_err());
                if gone {
                    drop_clients(vec![client]);
                    state = self.lock();
                    state.open -= 1;
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    client: Some(client),
                });
            }
            if state.open < self.size {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        client: Some(client),
                    }),
                    Err(e) => {
                        self.lock().open -= 1;
                        self.freed.notify_one();
                        Err(e)
                    }
                };
            }
            let (next, timeout) = self
                .freed
                .wait_timeout(state, CHECKOUT_TIMEOUT)
                .unwrap_or_else(|p| p.into_inner());
            state = next;
            if timeout.timed_out() && state.idle.is_empty() && state.open >= self.size {
                return Err(StoreError::PoolTimeout {
                    url: self.shown.clone(),
                    waited_secs: CHECKOUT_TIMEOUT.as_secs(),
                });
            }
        }
    }

    /// Opens a client and puts the store's schema first on its search path.
    pub fn connect(&self) -> Result<Client> {
        let connected = match &self.tls {
            Tls::Off => self.config.connect(NoTls),
            Tls::On(tls) => self.config.connect(tls.clone()),
        };
        let mut client = connected.map_err(|source| StoreError::OpenPostgres {
            url: self.shown.clone(),
            source,
        })?;
        if let Some(schema) = &self.schema {
            client.batch_execute(&format!("SET search_path TO {}", quote_ident(schema)))?;
        }
        Ok(client)
    }

    fn put_back(&self, client: Client) {
        let mut state = self.lock();
        if client.is_closed() {
            state.open -= 1;
            drop(state);
            drop_clients(vec![client]);
        } else {
            state.idle.push((client, Instant::now()));
            drop(state);
        }
        self.freed.notify_one();
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.lock().idle);
        drop_clients(idle.into_iter().map(|(client, _)| client).collect());
    }
}

/// A checked-out client; going out of scope gives it back.
pub struct Pooled<'a> {
    pool: &'a Pool,
    client: Option<Client>,
}

impl Deref for Pooled<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        // Only `drop` takes the client out.
        self.client.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client.as_mut().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            self.pool.put_back(client);
        }
    }
}

/// Whether this thread runs async tasks (where the sync client may not block).
pub fn in_async_context() -> bool {
    tokio::runtime::Handle::try_current().is_ok()
}

/// Drops clients (which closes them, blocking) on a plain thread when this one is async.
pub fn drop_clients(clients: Vec<Client>) {
    if clients.is_empty() {
        return;
    }
    if in_async_context() {
        let _ = std::thread::spawn(move || drop(clients)).join();
    } else {
        drop(clients);
    }
}

/// `"name"`, with embedded quotes doubled: a safe SQL identifier.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
