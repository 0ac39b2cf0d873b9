//! Email over SMTP (`lettre`): one message per effect, its `Message-ID` made from the
//! effect's key, so a receiving system can tell a repeat (SMTP itself cannot: an
//! email is delivered at least once, serve.md §3).

use std::time::Duration;

use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::attio::ApiError;
use super::config::{EmailSection, Secret};
use crate::engine::Recipients;

/// Sends the rules' emails, or says why it cannot.
pub struct Mailer {
    ready: Result<(AsyncSmtpTransport<Tokio1Executor>, Mailbox), String>,
}

fn failed(message: String, retryable: bool) -> ApiError {
    ApiError {
        message,
        retryable,
        retry_after: None,
    }
}

impl Mailer {
    /// A mailer for `[email]`. A section that is missing or wrong is not an error at
    /// start (rules may send no email); each email then fails saying what to set.
    pub fn new(section: &EmailSection, password: Option<&Secret>, timeout: Duration) -> Mailer {
        Mailer {
            ready: Self::ready(section, password, timeout),
        }
    }

    fn ready(
        section: &EmailSection,
        password: Option<&Secret>,
        timeout: Duration,
    ) -> Result<(AsyncSmtpTransport<Tokio1Executor>, Mailbox), String> {
        let url = section
            .smtp_url
            .as_deref()
            .ok_or("`[email] smtp_url` is not set in rulec.toml: rulec serve cannot send email")?;
        let from = section
            .from
            .as_deref()
            .ok_or("`[email] from` is not set in rulec.toml: an email needs a sender")?;
        let from: Mailbox = from
            .parse()
            .map_err(|e| format!("`[email] from = \"{from}\"` is not an address: {e}"))?;
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("`[email] smtp_url` is not an SMTP URL: {e}"))?
            .timeout(Some(timeout));
        if let (Some(password), Ok(parsed)) = (password, reqwest::Url::parse(url)) {
            if !parsed.username().is_empty() {
                let user = parsed.username().to_string();
                builder = builder.credentials(Credentials::new(user, password.reveal().into()));
            }
        }
        Ok((builder.build(), from))
    }

    /// Sends one email.
    pub async fn send(
        &self,
        to: Recipients<'_>,
        subject: &str,
        body: &str,
        key: &str,
    ) -> Result<(), ApiError> {
        let (transport, from) = self.ready.as_ref().map_err(|e| failed(e.clone(), false))?;
        let mut message = Message::builder().from(from.clone());
        for address in to.iter() {
            let mailbox: Mailbox = address
                .parse()
                .map_err(|e| failed(format!("`{address}` is not an email address: {e}"), false))?;
            message = message.to(mailbox);
        }
        let message = message
            .subject(subject)
            .message_id(Some(format!("<{key}@rulec>")))
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| failed(format!("the email cannot be built: {e}"), false))?;
        match transport.send(message).await {
            Ok(_) => Ok(()),
            // A 5xx answer (no such mailbox, refused) will not pass; everything else
            // (a 4xx, a connection that failed) may.
            Err(e) => Err(failed(
                format!("the SMTP server did not take the email: {e}"),
                !e.is_permanent(),
            )),
        }
    }
}
