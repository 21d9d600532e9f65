//! Credential classification shared by the rules that find literal secrets (SEC002,
//! SEC003) and by detection, which masks credentials in alerts: names that say a value is a
//! credential, values shaped like one, placeholders that are not. Nothing here returns or
//! prints a value.

/// A variable or key name in lower snake case, camelCase split (`clientSecret` →
/// `client_secret`, `DB-PASSWORD` → `db_password`).
fn snake_words(name: &str) -> String {
    let mut words = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() && name.as_bytes()[i - 1].is_ascii_lowercase() {
            words.push('_');
        }
        words.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '_'
        });
    }
    words
}

/// Names that may hold a credential but are too common to report on the name alone
/// (`ENCRYPTION_KEY`, `SIGNING_KEY`, `SESSION_SALT`, `WEBHOOK_HMAC`): reported only with a
/// high-entropy value ([`high_entropy`]).
pub fn weak_credential_name(name: &str) -> bool {
    let words = snake_words(name);
    let parts: Vec<&str> = words.split('_').filter(|p| !p.is_empty()).collect();
    let Some(last) = parts.last() else {
        return false;
    };
    const NOT_SECRET: &[&str] = &[
        "public",
        "pub",
        "cache",
        "partition",
        "sort",
        "primary",
        "routing",
        "idempotency",
        "foreign",
        "lookup",
        "hash",
        "shard",
        "row",
        "object",
        "s3",
        "prefix",
        "label",
    ];
    if parts.iter().any(|p| NOT_SECRET.contains(p)) {
        return false;
    }
    matches!(
        *last,
        "key" | "auth" | "salt" | "signature" | "hmac" | "seed" | "pass" | "pw" | "cred" | "creds"
    ) || parts.contains(&"signing")
        || parts.contains(&"encryption")
}

/// True when a value looks randomly generated: at least 16 characters without whitespace,
/// at least two character classes, and Shannon entropy of 3.5 bits per character or more.
/// URLs, paths and dotted names (hosts, Java properties) do not count.
pub fn high_entropy(value: &str) -> bool {
    let v = value.trim();
    let n = v.chars().count();
    if !(16..=1024).contains(&n)
        || v.chars().any(char::is_whitespace)
        || v.contains("://")
        || v.starts_with('/')
        || is_placeholder(v)
    {
        return false;
    }
    if v.split('.').count() > 2
        && v.split('.')
            .all(|p| p.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        return false;
    }
    let classes = [
        v.chars().any(|c| c.is_ascii_lowercase()),
        v.chars().any(|c| c.is_ascii_uppercase()),
        v.chars().any(|c| c.is_ascii_digit()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if classes < 2 {
        return false;
    }
    let mut counts = std::collections::HashMap::new();
    for c in v.chars() {
        *counts.entry(c).or_insert(0u32) += 1;
    }
    let entropy: f64 = counts
        .values()
        .map(|&k| {
            let p = f64::from(k) / n as f64;
            -p * p.log2()
        })
        .sum();
    entropy >= 3.5
}

/// The credential a name-and-value pair holds, if any: a known shape, a credential name with
/// a literal value, or a weaker credential name with a high-entropy value.
pub fn classify(name: &str, value: &str) -> Option<&'static str> {
    if let Some(shape) = credential_shape(value) {
        return Some(shape);
    }
    if value.contains('\n') || is_boolean(value) || is_number(value) && !password_name(name) {
        return None;
    }
    if credential_name(name) && !is_placeholder(value) {
        return Some("a credential");
    }
    if weak_credential_name(name) && high_entropy(value) {
        return Some("a high-entropy credential");
    }
    None
}

/// A number (`30`, `0.5`, `-1`): a count, a port or a timeout (`SECRET_TTL=3600`), not a
/// credential, unless the name says password ([`password_name`]: `MYSQL_PASSWORD=1234` is a
/// weak password, but a password).
pub fn is_number(v: &str) -> bool {
    v.trim().parse::<f64>().is_ok_and(f64::is_finite)
}

/// A boolean (`true`, `yes`, `off`, `enabled`...): a switch, never a credential.
pub fn is_boolean(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "enabled" | "disabled"
    )
}

/// A name whose last word is a password (`DB_PASSWORD`, `redisPasswd`, `SIM_PIN`).
fn password_name(name: &str) -> bool {
    let words = snake_words(name);
    words
        .rsplit('_')
        .find(|p| !p.is_empty())
        .is_some_and(|last| {
            matches!(
                last,
                "password" | "passwd" | "pwd" | "passphrase" | "passcode" | "pin"
            ) || last.ends_with("password")
        })
}

/// True when a variable or key name says it holds a credential (`DB_PASSWORD`,
/// `api-key`, `clientSecret`, `OCI_CLI_KEY_CONTENT`, `sshPrivateKey`), and not a reference
/// to one (`PASSWORD_FILE`, `TOKEN_PATH`) nor a public half (`PUBLIC_KEY`,
/// `publishableKey`). `KEY` alone, `keyspace`, `monkey` or `keyring-path` are not
/// credential names.
pub fn credential_name(name: &str) -> bool {
    let words = snake_words(name);
    let parts: Vec<&str> = words.split('_').filter(|p| !p.is_empty()).collect();
    let Some(last) = parts.last() else {
        return false;
    };
    if parts
        .iter()
        .any(|p| matches!(*p, "public" | "publishable" | "pub"))
    {
        return false;
    }
    const REFERENCE: &[&str] = &[
        "file", "path", "dir", "name", "ref", "key_ref", "url", "uri", "length", "len", "policy",
        "enabled", "type", "mode", "header", "id", "version", "ttl", "expiry",
    ];
    if REFERENCE.contains(last) || (*last == "ref" || *last == "secret_ref") {
        return false;
    }
    let joined = parts.join("_");
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "pwd",
        "secret",
        "token",
        "apikey",
        "api_key",
        "access_key",
        "secret_key",
        "private_key",
        "key_content",
        "key_contents",
        "key_data",
        "account_key",
        "credential",
        "credentials",
        "auth_key",
        "client_secret",
        "connection_string",
        "conn_str",
        "passphrase",
    ];
    WORDS.iter().any(|w| {
        joined == *w
            || joined.ends_with(&format!("_{w}"))
            || joined.starts_with(&format!("{w}_")) && parts.len() <= 2 && !REFERENCE.contains(last)
            || (w.len() > 6 && !w.contains('_') && parts.last().is_some_and(|l| l.ends_with(w)))
    }) && !name.is_empty()
}

/// Recognises values that are credentials whatever their name: PEM private keys, cloud access
/// keys, well-known token formats, and URLs or connection strings with an inline password.
pub fn credential_shape(value: &str) -> Option<&'static str> {
    let v = value.trim();
    if v.contains("-----BEGIN") && v.contains("PRIVATE KEY-----") {
        return Some("a PEM private key");
    }
    let bytes = v.as_bytes();
    for (prefix, what) in [
        ("AKIA", "an AWS access key id"),
        ("ASIA", "an AWS temporary access key id"),
    ] {
        if let Some(pos) = v.find(prefix) {
            let rest = &bytes[pos..];
            if rest.len() >= 20
                && rest[..20]
                    .iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                return Some(what);
            }
        }
    }
    for (prefix, what) in [
        ("ghp_", "a GitHub token"),
        ("gho_", "a GitHub token"),
        ("github_pat_", "a GitHub token"),
        ("glpat-", "a GitLab token"),
        ("xoxb-", "a Slack token"),
        ("xoxp-", "a Slack token"),
        ("sk_live_", "a Stripe secret key"),
        ("AIza", "a Google API key"),
    ] {
        if v.starts_with(prefix) && v.len() >= prefix.len() + 16 {
            return Some(what);
        }
    }
    if is_jwt(v) {
        return Some("a JSON Web Token");
    }
    if v.contains("AccountKey=") && v.contains("DefaultEndpointsProtocol") {
        return Some("an Azure storage connection string");
    }
    if v.contains("SharedAccessKey=") {
        return Some("a connection string with a shared access key");
    }
    // scheme://user:password@host with a literal password
    if let Some(idx) = v.find("://") {
        let rest = &v[idx + 3..];
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        if let Some((userinfo, _host)) = authority.rsplit_once('@') {
            if let Some((_, pass)) = userinfo.split_once(':') {
                if !pass.is_empty() && !is_placeholder(pass) {
                    return Some("a URL with an inline password");
                }
            }
        }
    }
    let lower = v.to_ascii_lowercase();
    for key in ["password=", "pwd="] {
        if let Some(pos) = lower.find(key) {
            let after = &v[pos + key.len()..];
            let val = after.split(';').next().unwrap_or("").trim();
            if !val.is_empty() && !is_placeholder(val) && lower.contains(';') {
                return Some("a connection string with a password");
            }
        }
    }
    None
}

/// A JSON Web Token: `eyJ<header>.eyJ<payload>.<signature>`, base64url segments.
fn is_jwt(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[1].starts_with("eyJ")
        && parts[0].len() >= 10
        && parts[1].len() >= 10
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Values that stand for a secret rather than being one: empty, templating (`${X}`,
/// `$(X)`, `{{ x }}`), obvious placeholders.
pub fn is_placeholder(v: &str) -> bool {
    let t = v.trim();
    if t.is_empty() || t.len() < 4 {
        return true;
    }
    let lower = t.to_ascii_lowercase();
    t.starts_with("${")
        || t.starts_with("$(")
        // `$VAR`, Argo CD's `$secret-name:key` and `$oidc.clientSecret`, Grafana's
        // `$__file{/path}` and `$__env{VAR}`
        || t.starts_with('$')
            && t[1..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ':' | '-' | '/'))
        || t.starts_with("$__")
        || t.contains("{{")
        || t.starts_with('<') && t.ends_with('>')
        // a masked value: `********`, `xxxxxxxx`
        || t.chars().all(|c| c == '*')
        || lower.chars().all(|c| c == 'x')
        || lower.starts_with("file:")
        || lower.starts_with("env:")
        || lower.starts_with("vault:")
        || lower.starts_with("ref+")
        || matches!(
            lower.as_str(),
            "changeme"
                | "change-me"
                | "changeit"
                | "password"
                | "secret"
                | "token"
                | "xxxx"
                | "xxxxxx"
                | "redacted"
                | "none"
                | "null"
                | "true"
                | "false"
                | "example"
        )
        || lower.starts_with("your-")
        || lower.starts_with("your_")
        || lower.starts_with("insert_")
        || lower.starts_with("replace_")
        || lower.starts_with("replace-me")
        // an upper-case identifier standing for a value to substitute: `GOOGLE_API_KEY_VAL`,
        // `HF_TOKEN`, `DB_PASSWORD_HERE`
        || (t.contains('_')
            && t.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && t.starts_with(|c: char| c.is_ascii_uppercase()))
        || t.starts_with('/') // a file path
}

/// A description of a value that reveals nothing of it.
pub fn describe_value(v: &str) -> String {
    format!(
        "literal value of {} characters, redacted",
        v.chars().count()
    )
}

/// True when the value given for `name` must not be repeated: the name says it holds a
/// credential (whatever the value, placeholders included), a weaker credential name comes with
/// a high-entropy value, or the value has the shape of a credential.
pub fn sensitive_pair(name: &str, value: &str) -> bool {
    !value.is_empty()
        && (credential_name(name)
            || (weak_credential_name(name) && high_entropy(value))
            || credential_shape(value).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for n in [
            "PASSWORD",
            "DB_PASSWORD",
            "db-password",
            "clientSecret",
            "API_KEY",
            "apiKey",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "POSTGRES_PASSWORD",
            "private_key",
            "redisPassword",
            "OCI_CLI_KEY_CONTENT",
            "sshPrivateKey",
            "GCP_SA_KEY_DATA",
            "STORAGE_ACCOUNT_KEY",
            "db.password",
        ] {
            assert!(credential_name(n), "{n}");
        }
        for n in [
            "PASSWORD_FILE",
            "TOKEN_PATH",
            "SECRET_NAME",
            "DB_HOST",
            "TOKEN_URL",
            "PASSWORD_POLICY",
            "SECRETS_DIR",
            "KEY",
            "TOKENIZER",
            "username",
            "secret_ref",
            "keyspace",
            "monkey",
            "public_key",
            "PUBLIC_KEY_CONTENT",
            "publishableKey",
            "keyring-path",
            "KEY_CONTENT_TYPE",
            "private_key_file",
            "passwd_file",
        ] {
            assert!(!credential_name(n), "{n}");
        }
    }

    #[test]
    fn shapes() {
        assert!(credential_shape("AKIAIOSFODNN7EXAMPLE").is_some());
        assert!(credential_shape("-----BEGIN RSA PRIVATE KEY-----\nMIIB...").is_some());
        assert!(credential_shape("postgres://app:s3cr3tpw@db:5432/app").is_some());
        assert!(credential_shape("postgres://app:${DB_PASS}@db:5432/app").is_none());
        assert!(credential_shape("Server=db;Database=x;User Id=sa;Password=Hunter2!;").is_some());
        assert!(credential_shape("https://example.com/path").is_none());
        assert!(credential_shape("-----BEGIN CERTIFICATE-----").is_none());
        assert!(credential_shape("hello world").is_none());
        for p in [
            "GOOGLE_API_KEY_VAL",
            "HF_TOKEN",
            "INSERT_ETCD_TOKEN",
            "<password>",
            "${X}",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for p in [
            "$argocd-secret:oidc.clientSecret",
            "$oidc.auth0.clientSecret",
            "$__file{/etc/secrets/pw}",
            "********",
            "XXXXXXXX",
            "file:/run/secrets/db",
            "/run/secrets/x",
            "$(DB_PASS)",
            "{{ .Values.password }}",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for v in [
            "migration",
            "Pr0d-DB-pw-2024!",
            "S3CR3TPASSWORD",
            "$ecret pw!",
        ] {
            assert!(!is_placeholder(v), "{v}");
        }
        for v in ["30", "3600", "0.5", "-1", "true", "Off", "enabled"] {
            assert!(is_number(v) || is_boolean(v), "{v}");
            assert_eq!(classify("SECRET_TIMEOUT", v), None, "{v}");
            assert_eq!(classify("API_TOKEN", v), None, "{v}");
        }
        // a number under a password name is a (weak) password; a boolean never is
        assert_eq!(classify("MYSQL_PASSWORD", "1234"), Some("a credential"));
        assert_eq!(classify("redisPassword", "123456"), Some("a credential"));
        assert_eq!(classify("DB_PASSWORD", "true"), None);
        assert!(!is_number("12ab"));
        assert!(!is_number("inf"), "not finite: a word");
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(credential_shape(jwt), Some("a JSON Web Token"));
        assert!(credential_shape("eyJhbGciOiJIUzI1NiJ9").is_none());
    }

    #[test]
    fn entropy() {
        assert!(weak_credential_name("ENCRYPTION_KEY"));
        assert!(weak_credential_name("jwtSigningKey"));
        assert!(weak_credential_name("SESSION_SALT"));
        assert!(!weak_credential_name("CACHE_KEY"));
        assert!(!weak_credential_name("PUBLIC_KEY"));
        assert!(!weak_credential_name("KEY_FILE"));
        assert!(!weak_credential_name("MONKEY"));
        assert!(high_entropy("q8Zt3LmX0vR7pK2wYc9N"));
        assert!(high_entropy("9f86d081884c7d659a2feaa0c55ad015"));
        assert!(!high_entropy("user-session"));
        assert!(!high_entropy("aaaaaaaaaaaaaaaaaaaaaaa1"));
        assert!(!high_entropy("my.service.example.com"));
        assert!(!high_entropy("https://vault.example.com/v1/x"));
        assert!(!high_entropy("${ENCRYPTION_KEY_FROM_VAULT}"));
        assert_eq!(
            classify("ENCRYPTION_KEY", "q8Zt3LmX0vR7pK2wYc9N"),
            Some("a high-entropy credential")
        );
        assert_eq!(classify("ENCRYPTION_KEY", "development"), None);
        assert_eq!(classify("SORT_KEY", "q8Zt3LmX0vR7pK2wYc9N"), None);
    }
}

#[cfg(test)]
mod pair_tests {
    use super::*;

    #[test]
    fn names_and_shapes() {
        for n in [
            "PASSWORD",
            "db-password",
            "clientSecret",
            "API_KEY",
            "GITHUB_TOKEN",
            "token",
        ] {
            assert!(credential_name(n), "{n}");
        }
        for n in ["PASSWORD_FILE", "TOKEN_PATH", "username", "DB_HOST", "KEY"] {
            assert!(!credential_name(n), "{n}");
        }
        assert!(credential_shape("postgres://app:s3cr3tpw@db:5432/app").is_some());
        assert!(credential_shape("hello world").is_none());
        assert!(sensitive_pair("password", "x"));
        assert!(sensitive_pair("ENCRYPTION_KEY", "q8Zt3LmX0vR7pK2wYc9N"));
        assert!(!sensitive_pair("ENCRYPTION_KEY", "development"));
        assert!(!sensitive_pair("password", ""));
        assert!(!sensitive_pair("user", "root"));
    }
}
