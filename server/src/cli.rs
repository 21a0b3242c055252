//! The command line: `serve` (the default) and the maintenance subcommands, with every setting
//! of [`crate::config`] as a flag beside its environment variable.
use crate::config::{ServeArgs, SettingsArgs};
use clap::{Parser, Subcommand};

// Without a subcommand the server serves, with `serve`'s settings declared once in `ServeArgs`
// and flattened here: a bare `server` parses exactly what `server serve` parses, flags and
// environment alike. (Not a doc comment: clap would print it in `--help`.) Those flags then
// rule out a subcommand ([`Cli::parse_args`]), so that `server --simulator-rate 5 store verify`
// is refused instead of quietly ignoring the flag; the settings of every command are global, so
// they may come before or after the subcommand.
#[derive(Parser)]
#[command(
    name = "server",
    version,
    about = "Institutional Enforcement Map — dashboard server and tools"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(flatten)]
    pub settings: SettingsArgs,
}

impl Cli {
    /// The command line, or clap's error (print it with `exit`). clap's own
    /// `args_conflicts_with_subcommands` would also refuse the global settings before a
    /// subcommand, so serving flags are checked here: given on the command line together with
    /// a subcommand, they are an error.
    pub fn parse_args<I, T>(args: I) -> Result<Cli, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        use clap::{Args, CommandFactory, FromArgMatches};
        let mut command = Cli::command();
        let matches = command.try_get_matches_from_mut(args)?;
        let cli = Cli::from_arg_matches(&matches)?;
        if let Some(name) = matches.subcommand_name() {
            let serving = ServeArgs::augment_args(clap::Command::new("serve"));
            for arg in serving.get_arguments() {
                let id = arg.get_id().as_str();
                if matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine) {
                    let flag = arg.get_long().unwrap_or(id);
                    let message = if name == "serve" {
                        format!("--{flag} is a setting of serve: write it after the subcommand (server serve --{flag} …), or leave `serve` out")
                    } else {
                        format!("--{flag} is a setting of serve; it cannot be used with the subcommand '{name}'")
                    };
                    return Err(command.error(clap::error::ErrorKind::ArgumentConflict, message));
                }
            }
        }
        Ok(cli)
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the dashboard and the API (the default; the demo only with --demo).
    Serve(Box<ServeArgs>),
    /// Import dossier events from an NDJSON file or a CSV export (atomic unless --skip-invalid).
    ///
    /// CSV: a header row naming any of event_id, dossier_id, type, at, unit, level, procedure,
    /// field, channel, due, fee, paid_online, agency, outcome; dates as RFC 3339 or
    /// dd/mm/yyyy [HH:MM] (local time, UTC+07:00); UTF-8 with or without BOM; CRLF accepted.
    Import {
        file: std::path::PathBuf,
        /// Store the valid lines and skip the invalid ones instead of refusing the whole file.
        #[arg(long)]
        skip_invalid: bool,
        /// ndjson or csv (default: from the file extension).
        #[arg(long, value_parser = ["ndjson", "csv"])]
        format: Option<String>,
    },
    /// Boundary layers for the map.
    Boundaries {
        #[command(subcommand)]
        command: BoundariesCommand,
    },
    /// Store upkeep: verify, rebuild, backup, restore, export-events.
    Store {
        #[command(subcommand)]
        command: crate::store::cli::StoreCommand,
    },
    /// People who sign in: leaders, chairs, admins (argon2id password hashes in IEM_DATA_DIR).
    Users {
        #[command(subcommand)]
        command: crate::auth::cli::UsersCommand,
    },
    /// API tokens for one-stop systems (ingest) and read access (leader, chair); stored hashed.
    Tokens {
        #[command(subcommand)]
        command: crate::auth::cli::TokensCommand,
    },
    /// Print the last lines of the audit log (sign-ins, token use, views of dossier-level data).
    Audit {
        #[arg(long, default_value_t = 50)]
        tail: usize,
    },
}

#[derive(Subcommand)]
pub enum BoundariesCommand {
    /// Import a GeoJSON or TopoJSON layer, pair its features with units and store it as a boundary set.
    Import(crate::boundaries::cli::ImportArgs),
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::parse_args(std::iter::once("server").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        // clap's own checks: no two flags with one name, defaults that parse, valid groups.
        Cli::command().debug_assert();
    }

    #[test]
    fn a_bare_server_serves_with_the_flags_serve_takes() {
        let cli = parse(&["--demo", "--simulator-rate", "7"]).unwrap();
        assert!(cli.command.is_none());
        let serve = cli.serve.settings().unwrap();
        assert!(serve.demo);
        assert_eq!(serve.simulator.map(|s| s.rate), Some(7.0));
        let Command::Serve(args) = parse(&["serve", "--demo"]).unwrap().command.unwrap() else {
            panic!("serve parsed as another command");
        };
        assert!(args.settings().unwrap().demo);
    }

    #[test]
    fn every_command_takes_the_common_settings_before_or_after_its_name() {
        for args in [
            &["--data-dir", "/srv/iem", "users", "list"][..],
            &["users", "list", "--data-dir", "/srv/iem"][..],
            &["store", "verify", "--data-dir", "/srv/iem"][..],
            &["--data-dir", "/srv/iem"][..],
        ] {
            let cli = parse(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
            let settings = cli.settings.settings().unwrap();
            assert_eq!(
                settings.data_dir,
                std::path::PathBuf::from("/srv/iem"),
                "{args:?}"
            );
        }
    }

    #[test]
    fn serving_flags_before_a_subcommand_are_refused_rather_than_ignored() {
        for args in [
            &["--demo", "store", "verify"][..],
            &["--simulator-rate", "5", "store", "verify"][..],
            &["--site-addr", "0.0.0.0:80", "users", "list"][..],
            &["users", "list", "--demo"][..],
        ] {
            assert!(parse(args).is_err(), "{args:?}");
        }
    }

    #[test]
    fn a_switch_takes_a_value_only_after_an_equals_sign() {
        // `--demo serve` once read `serve` as the switch's value.
        let e = parse(&["--demo", "serve"])
            .err()
            .expect("serve's flag before serve");
        assert!(
            e.to_string().contains("write it after the subcommand"),
            "{e}"
        );
        let Command::Serve(args) = parse(&["serve", "--demo"]).unwrap().command.unwrap() else {
            panic!("serve parsed as another command");
        };
        assert!(args.settings().unwrap().demo);
        assert!(
            !parse(&["--demo=false"])
                .unwrap()
                .serve
                .settings()
                .unwrap()
                .demo
        );
        assert!(parse(&["--demo", "false"]).is_err());
    }

    #[test]
    fn the_help_shows_every_setting_with_its_variable() {
        let help = Cli::command().render_long_help().to_string();
        for variable in [
            "IEM_DATA_DIR",
            "IEM_CONFIG_DIR",
            "STORE_URL",
            "IEM_DUCKDB_MEMORY_LIMIT",
            "IEM_BLOCKING_THREADS",
            "IEM_LOG_FORMAT",
            "RUST_LOG",
            "IEM_DEMO",
            "IEM_NO_DEMO",
            "IEM_NO_SIMULATOR",
            "IEM_SIMULATOR_RATE",
            "LEPTOS_SITE_ADDR",
            "IEM_SITE_ROOT",
            "IEM_DEFAULT_PROVINCE",
            "IEM_DEFAULT_PROVINCE_2025",
            "IEM_INGEST_TOKEN",
            "IEM_SESSION_IDLE_MINUTES",
            "IEM_SESSION_HOURS",
            "IEM_SIGNIN_RATE_LIMIT",
            "IEM_INGEST_RATE_LIMIT",
            "IEM_SECURE_COOKIES",
        ] {
            assert!(
                help.contains(&format!("env: {variable}")),
                "{variable} missing from --help"
            );
        }
        assert!(help.contains("[default: 16]"), "defaults are shown");
    }
}
