//! `rulec.toml`'s runtime sections (serve.md §4) and the secrets they name.
//!
//! Tokens and webhook secrets are never in the file: it names the environment
//! variables that hold them, and they are read once at start. A [`Secret`] prints as
//! `***`, so no log line, error or debug dump can show one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A value from the environment that must never be shown.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value that must never be shown (one Attio hands over, say).
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value, for the one place that sends it (an `Authorization` header, an HMAC
    /// key).
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The runtime's settings.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct File {
    /// `[serve]`
    pub serve: ServeSection,
    /// `[attio]`
    pub attio: AttioSection,
    /// `[slack]`
    pub slack: SlackSection,
    /// `[email]`
    pub email: EmailSection,
    /// `[actions.<name>]`: where each custom action is performed.
    pub actions: BTreeMap<String, ActionSection>,
    /// `[webhooks.<name>]`: how each declared webhook's deliveries are signed.
    pub webhooks: BTreeMap<String, WebhookSection>,
}

/// `[serve]`
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServeSection {
    /// Where to listen (`--listen` wins).
    pub listen: String,
    /// The state file (SQLite), relative to `rulec.toml`.
    pub state: String,
    /// The largest webhook body taken, in bytes.
    pub max_body_bytes: usize,
    /// Updates of one record closer together than this are read from Attio once.
    pub debounce_ms: u64,
    /// Attempts of an effect whose target fails in a way that may pass (429, 5xx,
    /// timeouts) before it is parked for an operator.
    pub attempts: u32,
    /// How long one call to a target may take, in milliseconds.
    pub timeout_ms: u64,
    /// The address the world reaches this server at, for the callback URLs custom
    /// actions are given (default: `http://` and the listening address).
    pub public_url: Option<String>,
}

impl Default for ServeSection {
    fn default() -> Self {
        ServeSection {
            listen: "127.0.0.1:8787".into(),
            state: "rulec-state.db".into(),
            max_body_bytes: 1 << 20,
            debounce_ms: 2000,
            attempts: 8,
            timeout_ms: 10_000,
            public_url: None,
        }
    }
}

/// `[attio]`
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttioSection {
    /// The REST API's base URL.
    pub api_url: String,
    /// The variable holding the API token.
    pub token_env: String,
    /// The variable holding the webhook's signing secret.
    pub webhook_secret_env: String,
    /// The id Attio gives rulec's own token as an actor (`{"type": "api-token", "id":
    /// …}`): its writes come back as events with `source = rule`.
    pub token_actor_id: Option<String>,
    /// Reads (record reads, queries) a second; Attio allows 100.
    pub reads_per_second: u32,
    /// Writes a second; Attio allows 25.
    pub writes_per_second: u32,
}

impl Default for AttioSection {
    fn default() -> Self {
        AttioSection {
            api_url: "https://api.attio.com".into(),
            token_env: "ATTIO_API_TOKEN".into(),
            webhook_secret_env: "ATTIO_WEBHOOK_SECRET".into(),
            token_actor_id: None,
            reads_per_second: 100,
            writes_per_second: 25,
        }
    }
}

/// `[slack]`
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlackSection {
    /// The Web API's base URL.
    pub api_url: String,
    /// The variable holding the bot token.
    pub token_env: String,
    /// Messages a second to one channel; Slack allows about 1.
    pub per_channel_per_second: u32,
}

impl Default for SlackSection {
    fn default() -> Self {
        SlackSection {
            api_url: "https://slack.com/api".into(),
            token_env: "SLACK_BOT_TOKEN".into(),
            per_channel_per_second: 1,
        }
    }
}

/// `[email]`
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailSection {
    /// `smtp://host:port` (plain, or STARTTLS with `?tls=required`) or
    /// `smtps://host:port` (TLS); a user name may be given (`smtp://bot@host`).
    pub smtp_url: Option<String>,
    /// The sender of every email.
    pub from: Option<String>,
    /// The variable holding the SMTP password, if the server wants one.
    pub password_env: String,
}

impl Default for EmailSection {
    fn default() -> Self {
        EmailSection {
            smtp_url: None,
            from: None,
            password_env: "SMTP_PASSWORD".into(),
        }
    }
}

/// `[actions.<name>]`: a custom action performed as a POST to a URL.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSection {
    /// Where the action is POSTed.
    pub url: String,
    /// The variable holding a secret the request is signed with
    /// (`Rulec-Signature`, HMAC-SHA256 of the body), if the receiver checks one.
    pub secret_env: Option<String>,
}

/// `[webhooks.<name>]`: a rule webhook's signature.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSection {
    /// The variable holding the secret deliveries are signed with (hex HMAC-SHA256
    /// of the body, optionally prefixed `sha256=`).
    pub secret_env: String,
    /// The header carrying the signature.
    #[serde(default = "signature_header")]
    pub header: String,
}

fn signature_header() -> String {
    "rulec-signature".into()
}

impl File {
    /// Reads `rulec.toml` (every default without one), and the folder its relative
    /// paths start from.
    pub fn read(config: Option<&Path>) -> Result<(File, PathBuf), String> {
        match config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                let file: File = toml::from_str(&text)
                    .map_err(|e| format!("{}: {}", path.display(), e.message()))?;
                let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
                Ok((file, root))
            }
            None => Ok((File::default(), PathBuf::new())),
        }
    }

    /// Attio's API token, from the variable `[attio] token_env` names.
    pub fn attio_token(&self, env: impl Fn(&str) -> Option<String>) -> Result<Secret, String> {
        required(&env, &self.attio.token_env, "the Attio API token")
    }
}

/// A set variable's value, or an error naming it and what to export in it.
fn required(
    env: &impl Fn(&str) -> Option<String>,
    name: &str,
    what: &str,
) -> Result<Secret, String> {
    env(name)
        .filter(|v| !v.is_empty())
        .map(Secret)
        .ok_or_else(|| {
            format!("{name} is not set: export {what} in it (the variable is named by rulec.toml)")
        })
}

/// Everything `rulec serve` runs with: the file's settings, paths resolved, secrets read.
#[derive(Debug)]
pub struct Settings {
    /// The settings as written.
    pub file: File,
    /// The state file.
    pub state: PathBuf,
    /// Attio's API token.
    pub attio_token: Secret,
    /// The webhook signing secret; unset only until `--sync-webhooks` has created
    /// the webhook (serve refuses to start without one otherwise).
    pub webhook_secret: Option<Secret>,
    /// Slack's bot token, if set (Slack steps fail without it).
    pub slack_token: Option<Secret>,
    /// `RULEC_ADMIN_TOKEN`, if set (the admin API answers 403 without it).
    pub admin_token: Option<Secret>,
    /// The SMTP password, if `[email] password_env` names a set variable.
    pub smtp_password: Option<Secret>,
    /// Each custom action's signing secret, by action name.
    pub action_secrets: BTreeMap<String, Secret>,
    /// Each rule webhook's signing secret, by webhook name.
    pub webhook_secrets: BTreeMap<String, Secret>,
}

impl Settings {
    /// Reads `rulec.toml` (or nothing: every default) and the secrets it names from
    /// `env`. Errors say which key or variable, and what to do.
    pub fn load(
        config: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Settings, String> {
        let (file, root) = File::read(config)?;
        let required = |name: &str, what: &str| required(&env, name, what);
        let attio_token = file.attio_token(&env)?;
        let webhook_secret = env(&file.attio.webhook_secret_env)
            .filter(|v| !v.is_empty())
            .map(Secret);
        let slack_token = env(&file.slack.token_env)
            .filter(|v| !v.is_empty())
            .map(Secret);
        let admin_token = env("RULEC_ADMIN_TOKEN")
            .filter(|v| !v.is_empty())
            .map(Secret);
        let smtp_password = env(&file.email.password_env)
            .filter(|v| !v.is_empty())
            .map(Secret);
        let mut action_secrets = BTreeMap::new();
        for (name, action) in &file.actions {
            if let Some(variable) = &action.secret_env {
                let what = format!("the signing secret of the `{name}` action");
                action_secrets.insert(name.clone(), required(variable, &what)?);
            }
        }
        let mut webhook_secrets = BTreeMap::new();
        for (name, hook) in &file.webhooks {
            let what = format!("the signing secret of the `{name}` webhook");
            webhook_secrets.insert(name.clone(), required(&hook.secret_env, &what)?);
        }
        Ok(Settings {
            webhook_secrets,
            smtp_password,
            action_secrets,
            admin_token,
            state: root.join(&file.serve.state),
            file,
            attio_token,
            webhook_secret,
            slack_token,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_come_from_the_environment_and_never_print() {
        let env = |name: &str| match name {
            "ATTIO_API_TOKEN" => Some("attio-token-123".to_string()),
            "ATTIO_WEBHOOK_SECRET" => Some("whsec-456".to_string()),
            _ => None,
        };
        let settings = Settings::load(None, env).unwrap();
        let shown = format!("{settings:?}");
        assert!(
            !shown.contains("attio-token-123") && !shown.contains("whsec-456"),
            "{shown}"
        );
        assert_eq!(settings.attio_token.reveal(), "attio-token-123");
        assert!(settings.slack_token.is_none());
        let missing = Settings::load(None, |_| None).unwrap_err();
        assert!(missing.contains("ATTIO_API_TOKEN is not set"), "{missing}");
    }
}
