//! The command line and the configuration file, through the built binary: help documents the
//! configuration; a bad file or database URL stops `tether serve` with a reason and a non-zero
//! exit.

use std::process::Command;

fn tether() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tether"))
}

#[test]
fn help_documents_the_configuration() {
    let out = tether().arg("--help").output().expect("run");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for key in [
        "[database]",
        "[http]",
        "[admin]",
        "[numbering]",
        "[demo]",
        "tether-admin.token",
        "serve",
        "ctl",
    ] {
        assert!(help.contains(key), "{key} missing from:\n{help}");
    }
    let out = tether().args(["serve", "--help"]).output().expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--config") && help.contains("--http") && help.contains("--database"));
    let out = tether().args(["ctl", "--help"]).output().expect("run");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for key in [
        "TETHER_URL",
        "TETHER_TOKEN",
        "tether-admin.token",
        "plain HTTP",
        "reverse",
        "remote-destinations",
        "analyze",
        "Exit codes",
    ] {
        assert!(help.contains(key), "{key} missing from:\n{help}");
    }
}

#[test]
fn bad_config_file_names_file_line_and_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.toml");
    std::fs::write(
        &file,
        "[demo]\nseed = true\n\n[http]\nlisten = \"127.0.0.1:0\"\nport = 8080\n",
    )
    .expect("write");
    let out = tether()
        .args(["serve", "--config"])
        .arg(&file)
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("line 6"), "{err}");
    assert!(err.contains("http.port"), "{err}");
    assert!(!dir.path().join("tether.db").exists(), "nothing started");

    std::fs::write(&file, "[numbering]\nnational_number_length = \"ten\"\n").expect("write");
    let out = tether()
        .args(["serve", "--config"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2") && err.contains("numbering.national_number_length"),
        "{err}"
    );

    // An RTP range that holds no port pair, named by line and key.
    std::fs::write(&file, "[media]\nport_min = 10001\nport_max = 10010\n").expect("write");
    let out = tether()
        .args(["serve", "--config"])
        .arg(&file)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 2") && err.contains("media.port_min"),
        "{err}"
    );

    // Music on hold that is no WAV file: the start stops, naming the file.
    std::fs::write(dir.path().join("moh.wav"), "not a wav").expect("write");
    std::fs::write(
        &file,
        "[sip]\nlisten_udp = [\"127.0.0.1:0\"]\nlisten_tcp = []\n[http]\nlisten = \"127.0.0.1:0\"\n\
         [pstn]\nenabled = false\n[media]\nmusic_on_hold = \"moh.wav\"\n",
    )
    .expect("write");
    let out = tether()
        .args(["serve", "--config"])
        .arg(&file)
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("music_on_hold") && err.contains("moh.wav"),
        "{err}"
    );

    let out = tether()
        .args(["serve", "--config"])
        .arg(dir.path().join("missing.toml"))
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}

#[test]
fn unknown_database_url_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tether()
        .args([
            "serve",
            "--http",
            "127.0.0.1:0",
            "--database",
            "mysql://localhost/x",
        ])
        .current_dir(dir.path())
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mysql://"));
}
