//! Standard Webhooks: the shared vectors, and interoperability both ways
//! with the reference libraries (the Rust crate, and PyPI `standardwebhooks`
//! in the venv that `make test` creates).

use std::path::PathBuf;
use std::process::Command;

use puente::signature::{self, HookSecret, SignatureHeaders};
use reqwest::StatusCode;
use serde::Deserialize;

use crate::support::*;

#[derive(Deserialize)]
struct Vector {
    origin: String,
    secret: String,
    id: String,
    timestamp: i64,
    payload: String,
    signature: String,
}

fn vectors() -> Vec<Vector> {
    let vectors: Vec<Vector> = signature_vectors("standard_webhooks_v1")
        .into_iter()
        .map(|vector| serde_json::from_value(vector).expect("a vector"))
        .collect();
    assert_eq!(vectors.len(), 3);
    vectors
}

#[test]
fn every_vector_is_reproduced_by_sign_and_accepted_by_verify_at_its_time() {
    for vector in vectors() {
        let secret: HookSecret = vector.secret.parse().expect("vector secret");
        let body = vector.payload.as_bytes();
        assert_eq!(
            signature::sign(&secret, &vector.id, vector.timestamp, body),
            vector.signature,
            "{}",
            vector.origin
        );
        let timestamp = vector.timestamp.to_string();
        let headers = SignatureHeaders {
            id: Some(&vector.id),
            timestamp: Some(&timestamp),
            signature: Some(&vector.signature),
        };
        let verify_at =
            |now| signature::verify(std::slice::from_ref(&secret), headers, body, now, 300);
        assert!(verify_at(vector.timestamp).is_ok(), "{}", vector.origin);
        assert!(
            verify_at(vector.timestamp + 301).is_err(),
            "{}",
            vector.origin
        );
    }
}

#[test]
fn the_rust_reference_crate_verifies_our_signatures_and_we_verify_its() {
    for vector in vectors() {
        let ours: HookSecret = vector.secret.parse().expect("secret");
        let theirs = standardwebhooks::Webhook::new(&vector.secret).expect("reference secret");
        let body = vector.payload.as_bytes();
        let timestamp = now();

        let signed_by_us = signature::sign(&ours, &vector.id, timestamp, body);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("webhook-id", vector.id.parse().expect("header"));
        headers.insert(
            "webhook-timestamp",
            timestamp.to_string().parse().expect("header"),
        );
        headers.insert("webhook-signature", signed_by_us.parse().expect("header"));
        assert!(theirs.verify(body, &headers).is_ok(), "{}", vector.origin);

        let signed_by_them = theirs
            .sign(&vector.id, timestamp, body)
            .expect("reference sign");
        let timestamp_text = timestamp.to_string();
        let headers = SignatureHeaders {
            id: Some(&vector.id),
            timestamp: Some(&timestamp_text),
            signature: Some(&signed_by_them),
        };
        assert!(signature::verify(&[ours], headers, body, timestamp, 300).is_ok());
    }
}

/// The venv's Python; `make test` creates it. Its absence fails the test:
/// interop that silently does not run proves nothing.
fn python() -> PathBuf {
    let path = std::env::var_os("PUENTE_TEST_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    assert!(
        path.exists(),
        "{} is missing: run `make test`, which creates the venv with the reference library",
        path.display()
    );
    path
}

fn reference(args: &[&str]) -> std::process::Output {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/standard_webhooks.py");
    Command::new(python())
        .arg(script)
        .args(args)
        .output()
        .expect("run the reference library")
}

#[tokio::test]
async fn events_signed_by_the_python_reference_library_are_accepted_and_tampering_is_not() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("temp dir");
    for n in 0..3 {
        let id = format!("evt_python_{n}");
        let body = envelope("InvoicePaid")
            .to_string()
            .replace("1001", &format!("{}", 2000 + n));
        let body_file = dir.path().join(format!("{id}.json"));
        std::fs::write(&body_file, &body).expect("write body");
        let timestamp = now().to_string();
        let output = reference(&[
            "sign",
            SECRET,
            &id,
            &timestamp,
            body_file.to_str().expect("utf-8"),
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let signature = String::from_utf8(output.stdout)
            .expect("utf-8")
            .trim()
            .to_owned();
        let request = |body: String| {
            HookRequest::signed(SECRET, &id, body)
                .header("webhook-timestamp", &timestamp)
                .header("webhook-signature", &signature)
        };
        let tampered = body.replace("InvoicePaid", "InvoiceUnpaid");
        assert_error(
            app.post_hook(request(tampered)).await,
            StatusCode::UNAUTHORIZED,
            "invalid_signature",
        )
        .await;
        json_of(app.post_hook(request(body)).await, StatusCode::ACCEPTED).await;
    }
    assert_eq!(app.stored_ids().await.len(), 3);
    app.stop().await;
}

#[test]
fn the_python_reference_library_verifies_our_signatures_and_refuses_altered_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let body = envelope("InvoicePaid").to_string();
    let body_file = dir.path().join("body.json");
    std::fs::write(&body_file, &body).expect("write body");
    let body_path = body_file.to_str().expect("utf-8");
    let secret: HookSecret = SECRET.parse().expect("secret");
    let timestamp = now();
    let ours = signature::sign(&secret, "evt_rust", timestamp, body.as_bytes());
    let accepted = reference(&[
        "verify",
        SECRET,
        "evt_rust",
        &timestamp.to_string(),
        &ours,
        body_path,
    ]);
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );

    let rotated = format!("v1,bm90LXRoaXMtb25l {ours}");
    let accepted = reference(&[
        "verify",
        SECRET,
        "evt_rust",
        &timestamp.to_string(),
        &rotated,
        body_path,
    ]);
    assert!(
        accepted.status.success(),
        "{}",
        String::from_utf8_lossy(&accepted.stderr)
    );

    let refused = reference(&[
        "verify",
        OTHER_SECRET,
        "evt_rust",
        &timestamp.to_string(),
        &ours,
        body_path,
    ]);
    assert_eq!(refused.status.code(), Some(1));
    let refused = reference(&[
        "verify",
        SECRET,
        "evt_other",
        &timestamp.to_string(),
        &ours,
        body_path,
    ]);
    assert_eq!(refused.status.code(), Some(1));
}
