//! The command line: `--data-dir DIR`, `--smoke`, `--help`, `--version`. Unknown flags are an error.

use std::ffi::OsString;
use std::path::PathBuf;

/// Environment variable that sets the data directory when `--data-dir` is not given.
pub const DATA_DIR_ENV: &str = "VARN_DATA_DIR";

/// How to call the binary.
pub const USAGE: &str = "\
Användning / usage: varn [--data-dir DIR] [--smoke]

  --data-dir DIR   datamapp (annars $VARN_DATA_DIR, annars plattformens app-datamapp)
                   data directory (else $VARN_DATA_DIR, else the platform's app-data dir)
  --smoke          starta, skriv \"ready in N ms\" när 112 och LARM syns och \"view in N ms\"
                   när första vyn syns, och avsluta
                   start, print \"ready in N ms\" when 112 and LARM show and \"view in N ms\"
                   when the first view shows, and exit
  --help           visa den här texten / show this text
  --version        visa versionen / show the version";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run the app.
    Run(Options),
    /// Print usage and exit 0.
    Help,
    /// Print the version and exit 0.
    Version,
}

/// Options for running the app.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Options {
    /// The data directory given by flag or environment; `None` means the platform default.
    pub data_dir: Option<PathBuf>,
    /// Exit as soon as the first view has rendered.
    pub smoke: bool,
}

/// A command line that cannot be understood. Exit code 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Parses the arguments (without the program name); `env_data_dir` is `$VARN_DATA_DIR`.
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    env_data_dir: Option<OsString>,
) -> Result<Command, UsageError> {
    let mut opts = Options::default();
    let mut flag_dir = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let Some(s) = arg.to_str() else {
            return Err(UsageError(format!(
                "okänt argument / unknown argument: {}",
                arg.to_string_lossy()
            )));
        };
        match s {
            "--help" | "-h" => return Ok(Command::Help),
            "--version" | "-V" => return Ok(Command::Version),
            "--smoke" => opts.smoke = true,
            "--data-dir" => match args.next() {
                Some(dir) if !dir.is_empty() => flag_dir = Some(PathBuf::from(dir)),
                _ => {
                    return Err(UsageError(
                        "--data-dir behöver en mapp / --data-dir needs a directory".into(),
                    ))
                }
            },
            _ if s.starts_with("--data-dir=") => {
                let dir = &s["--data-dir=".len()..];
                if dir.is_empty() {
                    return Err(UsageError(
                        "--data-dir behöver en mapp / --data-dir needs a directory".into(),
                    ));
                }
                flag_dir = Some(PathBuf::from(dir));
            }
            _ => {
                return Err(UsageError(format!(
                    "okänt argument / unknown argument: {s}"
                )))
            }
        }
    }
    opts.data_dir = flag_dir.or_else(|| env_data_dir.filter(|d| !d.is_empty()).map(PathBuf::from));
    Ok(Command::Run(opts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn no_arguments_runs_with_defaults() {
        assert_eq!(parse(args(&[]), None), Ok(Command::Run(Options::default())));
    }

    #[test]
    fn data_dir_flag_beats_the_environment() {
        let cmd = parse(args(&["--data-dir", "/a", "--smoke"]), Some("/b".into())).unwrap();
        assert_eq!(
            cmd,
            Command::Run(Options {
                data_dir: Some("/a".into()),
                smoke: true
            })
        );
        let cmd = parse(args(&["--data-dir=/c"]), None).unwrap();
        assert_eq!(
            cmd,
            Command::Run(Options {
                data_dir: Some("/c".into()),
                smoke: false
            })
        );
    }

    #[test]
    fn environment_sets_the_data_dir() {
        let cmd = parse(args(&[]), Some("/env".into())).unwrap();
        assert_eq!(
            cmd,
            Command::Run(Options {
                data_dir: Some("/env".into()),
                smoke: false
            })
        );
        // An empty variable counts as unset.
        assert_eq!(
            parse(args(&[]), Some("".into())),
            Ok(Command::Run(Options::default()))
        );
    }

    #[test]
    fn unknown_flags_and_missing_values_are_usage_errors() {
        assert!(parse(args(&["--bogus"]), None).is_err());
        assert!(parse(args(&["--data-dir"]), None).is_err());
        assert!(parse(args(&["--data-dir="]), None).is_err());
        assert!(parse(args(&["smoke"]), None).is_err());
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parse(args(&["--smoke", "--help"]), None), Ok(Command::Help));
        assert_eq!(parse(args(&["-V"]), None), Ok(Command::Version));
    }
}
