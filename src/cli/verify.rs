//! `frostsign verify`: check a finished signature with one public key. No home, no secret.

use crate::error::{ExitKind, Result};
use crate::formats::minisign;
use crate::verify::{self, Verified};
use std::path::Path;

/// Verify and print; returns the exit code (0 valid, 1 invalid, 2 bad input).
pub fn verify(key: &str, artifact: &Path, sig: Option<&Path>, json: bool) -> Result<i32> {
    let default_sig = {
        let mut s = artifact.as_os_str().to_owned();
        s.push(".minisig");
        std::path::PathBuf::from(s)
    };
    let sig_path = sig.unwrap_or(&default_sig);
    let result = verify::load_key(key).and_then(|k| {
        let tc = verify::verify_minisign_file(&k, artifact, sig_path)?;
        Ok((k, tc))
    });
    let file = artifact.display().to_string();
    match result {
        Ok((k, tc)) => {
            if json {
                let v = Verified {
                    valid: true,
                    key_id: minisign::key_id_display(&k.key_id),
                    trusted_comment: Some(tc),
                    file,
                    error: None,
                };
                println!("{}", serde_json::to_string_pretty(&v).expect("serializable"));
            } else {
                println!("Signature and comment signature verified");
                println!("Trusted comment: {tc}");
                if let Some(g) = &k.group {
                    println!(
                        "Signed by group {} ({}-of-{}, fingerprint {})",
                        g.display_name(),
                        g.threshold(),
                        g.members().len(),
                        g.fingerprint()
                    );
                }
            }
            Ok(0)
        }
        Err(e) => {
            if json {
                let v = Verified {
                    valid: false,
                    key_id: String::new(),
                    trusted_comment: None,
                    file,
                    error: Some(e.message().to_string()),
                };
                println!("{}", serde_json::to_string_pretty(&v).expect("serializable"));
            }
            if e.kind() == ExitKind::Invalid {
                eprintln!("error: {e}");
                Ok(1)
            } else {
                Err(e)
            }
        }
    }
}
