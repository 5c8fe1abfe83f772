//! The webhook notifier (NOTIFY_WEBHOOK_URL): one POST per notification, as generic JSON
//! (`{kind, title, text, data}`), Discord (`{content}`) or Slack (`{text}`). A POST is not
//! idempotent, so it is not retried; it has a timeout, and a failure is logged (without the
//! URL, which is a secret) and never returned to the caller.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use boz_common::config::{Settings, WebhookFormat};
use boz_common::ports::{Notification, Notifier};
use secrecy::ExposeSecret;
use serde_json::json;

pub struct WebhookNotifier {
    client: reqwest::Client,
    url: String,
    format: WebhookFormat,
}

/// The configured notifier, if a webhook is set.
pub fn from_settings(settings: &Settings) -> Option<Arc<dyn Notifier>> {
    let url = settings
        .notify_webhook_url
        .as_ref()?
        .expose_secret()
        .to_string();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(u64::from(
            settings.http_timeout_seconds,
        )))
        .build()
        .ok()?;
    Some(Arc::new(WebhookNotifier {
        client,
        url,
        format: settings.notify_webhook_format,
    }))
}

pub fn body(format: WebhookFormat, n: &Notification) -> serde_json::Value {
    let line = format!("**{}**\n{}", n.title, n.text);
    match format {
        WebhookFormat::Generic => {
            json!({"kind": n.kind, "title": n.title, "text": n.text, "data": n.data})
        }
        WebhookFormat::Discord => json!({"content": line.chars().take(2000).collect::<String>()}),
        WebhookFormat::Slack => json!({"text": format!("*{}*\n{}", n.title, n.text)}),
    }
}

#[async_trait]
impl Notifier for WebhookNotifier {
    async fn notify(&self, n: &Notification) {
        let sent = self
            .client
            .post(&self.url)
            .json(&body(self.format, n))
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => {
                tracing::info!(target: "SYSTEM", kind = ?n.kind, "notification sent");
            }
            Ok(r) => {
                tracing::warn!(target: "SYSTEM", kind = ?n.kind, status = r.status().as_u16(), "notification refused by the webhook")
            }
            Err(e) => {
                tracing::warn!(target: "SYSTEM", kind = ?n.kind, timeout = e.is_timeout(), "notification not delivered")
            }
        }
    }
}
