//! `frostsign verify`: check a finished signature with one public key. No home, no secret.

use crate::error::{ExitKind, Result};
use crate::formats::minisign;
use crate::verify::{self, Verified};
use std::path::Path;

/// Verify and print; returns the exit code (0 valid, 1 invalid, 2 bad input).
pub fn verify(key: &str, artifact: &Path, sig: Option<&Path>, json: bool) -> Result<i32> {
    let file = artifact.display().to_string();
    let sig_path = match sig {
        Some(p) => Ok(p.to_path_buf()),
        None => verify::default_signature(artifact),
    };
    let result = sig_path.clone().and_then(|sp| {
        let k = verify::load_key(key)?;
        let outcome = verify::verify_file(&k, artifact, &sp)?;
        Ok((k, outcome))
    });
    let signature = sig_path.ok().map(|p| p.display().to_string());
    match result {
        Ok((k, o)) => {
            if json {
                let v = Verified {
                    valid: true,
                    format: Some(o.format),
                    key_id: minisign::key_id_display(&k.key_id),
                    trusted_comment: o.trusted_comment,
                    file,
                    signature,
                    error: None,
                };
                println!("{}", serde_json::to_string_pretty(&v).expect("serializable"));
            } else {
                if o.format == "minisign" {
                    println!("Signature and comment signature verified");
                } else {
                    println!("Signature verified");
                }
                println!("{}", o.detail);
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
                    format: None,
                    key_id: String::new(),
                    trusted_comment: None,
                    file,
                    signature,
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
