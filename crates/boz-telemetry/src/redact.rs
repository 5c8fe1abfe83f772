//! Secret redaction, applied to every message and field before any sink sees it.
//!
//! Masked:
//! - values of fields whose names contain `key`, `secret`, `password`, `token`, `signature`,
//!   `private` or `authorization` (case-insensitive);
//! - PEM blocks (`-----BEGIN ...-----` to the matching end, or to the end of the text);
//! - `Bearer ...` credentials;
//! - Fernet tokens (`gAAAAA...`) and our vault tokens (`v1.<kid>.<data>`);
//! - long base64 runs (64+ characters: RSA signatures, key material);
//! - passwords in URLs (`scheme://user:password@host`);
//! - the literal secrets the redactor is given (the configured `ENCRYPTION_KEY`).

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

pub const REDACTED: &str = "[REDACTED]";

const SECRET_FIELD_WORDS: [&str; 7] = [
    "key",
    "secret",
    "password",
    "token",
    "signature",
    "private",
    "authorization",
];

static PATTERNS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    let p = |re: &str, with: &'static str| Regex::new(re).map(|r| (r, with));
    [
        // A PEM block, up to its END line or to the end of the text when truncated.
        p(
            r"-----BEGIN [A-Z0-9 ]+-----(?s:.*?)(?:-----END [A-Z0-9 ]+-----|\z)",
            "[REDACTED PEM]",
        ),
        p(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+", "Bearer [REDACTED]"),
        p(r"gAAAAA[A-Za-z0-9_=-]{16,}", REDACTED),
        p(r"\bv1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+", REDACTED),
        p(r"[A-Za-z0-9+/_-]{64,}={0,2}", REDACTED),
        p(
            r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):[^@/\s]+@",
            "$scheme:***@",
        ),
    ]
    .into_iter()
    .filter_map(Result::ok)
    .collect()
});

/// Whether a field with this name holds a secret.
pub fn is_secret_field(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_FIELD_WORDS.iter().any(|w| lower.contains(w))
}

/// Masks secrets in text and JSON values.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    literals: Vec<String>,
}

impl Redactor {
    /// A redactor that also masks these exact strings (8 characters or more; shorter ones would
    /// mask ordinary words).
    pub fn new(literals: impl IntoIterator<Item = String>) -> Redactor {
        let mut literals: Vec<String> = literals
            .into_iter()
            .map(|s| s.trim().to_string())
            .filter(|s| s.len() >= 8)
            .collect();
        literals.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Redactor { literals }
    }

    /// Masks secrets in a string.
    pub fn redact_str<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for lit in &self.literals {
            if out.contains(lit.as_str()) {
                out = Cow::Owned(out.replace(lit.as_str(), REDACTED));
            }
        }
        for (re, with) in PATTERNS.iter() {
            if re.is_match(&out) {
                out = Cow::Owned(re.replace_all(&out, *with).into_owned());
            }
        }
        out
    }

    /// Masks a field: the whole value if the name says it is secret, else secrets within it.
    pub fn redact_field(&self, name: &str, value: Value) -> Value {
        if is_secret_field(name) && !value.is_null() {
            return Value::String(REDACTED.to_string());
        }
        self.redact_value(value)
    }

    /// Masks secrets anywhere in a JSON value (by key name and by content).
    pub fn redact_value(&self, value: Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.redact_str(&s).into_owned()),
            Value::Array(a) => Value::Array(a.into_iter().map(|v| self.redact_value(v)).collect()),
            Value::Object(o) => Value::Object(
                o.into_iter()
                    .map(|(k, v)| {
                        let v = self.redact_field(&k, v);
                        (k, v)
                    })
                    .collect(),
            ),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    // Built in pieces so no private-key header stands in the source (a fake, truncated body).
    const PEM: &str = concat!(
        "-----BEGIN RSA ",
        "PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n4lgOEePzNm0tRgeLezV6ffAt0gunVTLw\n-----END RSA ",
        "PRIVATE KEY-----"
    );

    #[test]
    fn masks_each_kind_of_secret() {
        let r = Redactor::new(["my-master-key-AAAABBBB".to_string()]);
        let cases = [
            (format!("loaded {PEM} ok"), "loaded [REDACTED PEM] ok"),
            (
                concat!("truncated -----BEGIN ", "PRIVATE KEY-----\nMIIE").to_string(),
                "truncated [REDACTED PEM]",
            ),
            (
                "Authorization: Bearer abc.def-ghi".to_string(),
                "Authorization: Bearer [REDACTED]",
            ),
            (
                "key my-master-key-AAAABBBB used".to_string(),
                "key [REDACTED] used",
            ),
            (
                "token gAAAAABrCjDyYVTz5_YM3I6w0ml4Im4p".to_string(),
                "token [REDACTED]",
            ),
            (
                "stored v1.0a1b2c3d.AAAAbbbbCCCC".to_string(),
                "stored [REDACTED]",
            ),
            (format!("sig {}", "A".repeat(344)), "sig [REDACTED]"),
            (
                "postgres://boz:hunter2@db:5432/x".to_string(),
                "postgres://boz:***@db:5432/x",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(r.redact_str(&input), want, "input: {input}");
        }
        assert_eq!(r.redact_str("Fetched NWS forecast"), "Fetched NWS forecast");
        assert!(matches!(r.redact_str("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn masks_fields_by_name_and_content() {
        let r = Redactor::default();
        let v = json!({
            "city": "NYC",
            "api_key_id": "abc",
            "nested": {"Password": "p", "note": PEM, "list": [{"private_key": "x"}]},
            "KALSHI-ACCESS-SIGNATURE": "sig",
            "token_count": null
        });
        assert_eq!(
            r.redact_value(v),
            json!({
                "city": "NYC",
                "api_key_id": REDACTED,
                "nested": {"Password": REDACTED, "note": "[REDACTED PEM]", "list": [{"private_key": REDACTED}]},
                "KALSHI-ACCESS-SIGNATURE": REDACTED,
                "token_count": null
            })
        );
    }

    proptest! {
        #[test]
        fn a_pem_body_never_survives(prefix in "[ -~]{0,40}", body in "[A-Za-z0-9+/]{8,200}", suffix in "[ -~]{0,40}", end in any::<bool>()) {
            let tail = if end { "\n-----END PRIVATE KEY-----" } else { "" };
            let header = concat!("-----BEGIN ", "PRIVATE KEY-----");
            let text = format!("{prefix}{header}\n{body}{tail}{suffix}");
            let out = Redactor::default().redact_str(&text).into_owned();
            prop_assert!(!out.contains(&body), "{out}");
            prop_assert!(!out.contains("BEGIN PRIVATE KEY"));
        }

        #[test]
        fn a_literal_secret_never_survives(secret in "[A-Za-z0-9_=-]{16,64}", around in "[ -~]{0,30}") {
            let r = Redactor::new([secret.clone()]);
            let text = format!("{around}{secret}{around}");
            prop_assert!(!r.redact_str(&text).contains(&secret));
            let v = r.redact_value(json!({"msg": text, "list": [secret.clone()]}));
            prop_assert!(!v.to_string().contains(&secret));
        }

        #[test]
        fn secret_named_fields_are_always_masked(name in "[a-z_]{0,8}(key|secret|password|token|signature)[a-z_]{0,8}", value in "[ -~]{1,40}") {
            let v = Redactor::default().redact_field(&name, json!(value));
            prop_assert_eq!(v, json!(REDACTED));
        }
    }
}
