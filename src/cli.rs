//! The command line: raw flags are lowered once into settings, then the pipeline runs.
//!
//! Exit codes: 0 success, 1 findings (from `check`), 2 usage, configuration or I/O error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::config::{self, Settings};
use crate::graph::{Graph, Resolution};
use crate::rules::{self, Rule, Selection};
use crate::{cache, concept, python, render, walk};

#[derive(Debug, Parser)]
#[command(
    name = "ssot-gardener",
    version,
    about = "Find every copy of a concept that should exist once, and rewrite imports to the single source of truth"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Use this ssot.toml instead of discovering one upward from PATH (or the working directory).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Worker threads; 0 means one per core.
    #[arg(long, global = true, default_value_t = 0, value_name = "N")]
    threads: usize,
    /// Print the findings and errors only: no summary, warnings or notes.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Also print the configuration in use, the file counts and the time of each phase
    /// (on standard error).
    #[arg(short, long, global = true)]
    verbose: bool,
    /// When to colour the output: `auto` (on a terminal, unless NO_COLOR is set), `always` or
    /// `never`. Without this flag, a non-empty FORCE_COLOR means `always`.
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    color: Option<ColorWhen>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ColorWhen {
    Auto,
    Always,
    Never,
}

/// How chatty this run is, set once from the flags: `-q` silences warnings, notes and the
/// summary; `-v` adds the settings, counts and phase timings (as ruff's own global log level).
#[derive(Clone, Copy, Debug, Default)]
struct Ui {
    quiet: bool,
    verbose: bool,
    /// `--color always` given: a report written to `-o FILE` keeps its colours too.
    color_files: bool,
}

static UI: std::sync::OnceLock<Ui> = std::sync::OnceLock::new();

fn ui() -> Ui {
    UI.get().copied().unwrap_or_default()
}

/// A warning, note or progress line on stderr: not under `-q`.
macro_rules! say {
    ($($arg:tt)*) => {
        if !ui().quiet {
            let _ = writeln!(anstream::stderr(), $($arg)*);
        }
    };
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the import graph: where each import resolves (`text`), every module with its
    /// definitions and imports (`json`), or the counts (`summary`). With `--concept NAME`, the
    /// picture of one concept: its canonical definition, shims, duplicates, factories and
    /// importers, each edge marked by its finding (`dot`, `mermaid`, `json`, `html`).
    Graph {
        /// The repository, or a directory inside it to limit the output to.
        path: Option<PathBuf>,
        /// text, json or summary; with --concept: mermaid (the default), dot, json or html.
        #[arg(long, value_enum)]
        format: Option<GraphFormat>,
        /// The concept (its `name` in ssot.toml) to draw.
        #[arg(long, value_name = "NAME")]
        concept: Option<String>,
    },
    /// Find the most fragmented concepts, no ssot.toml needed: class names defined in several
    /// modules, families of names (`*WebSocket*Manager`) and classes with the same methods,
    /// ranked; `--emit-config` prints them as `[[concept]]` blocks.
    Audit(AuditArgs),
    /// Check the repository against its concepts: report every duplicate, shim, factory,
    /// indirect import and stale backup.
    Check(CheckArgs),
    /// Apply the fixes (same as `check --fix`), then report what is left as `check` does.
    Fix(CheckArgs),
    /// Write the baseline: every finding of today, accepted, so that `check` reports only new
    /// ones. Run it again to shrink the baseline once findings are fixed.
    Baseline(BaselineArgs),
    /// Print a rule's documentation (`explain SSOT002`), or list every rule.
    Explain {
        /// A rule code (`SSOT002`) or name (`indirect-import`); none lists every rule.
        rule: Option<String>,
    },
    /// Print the bundled reference WebSocket manager module (standard library only), or write
    /// it to a file.
    Reference {
        /// Write the module here instead of printing it (an existing file is not replaced).
        #[arg(long, value_name = "PATH")]
        output: Option<PathBuf>,
    },
    /// Write a starter ssot.toml for the repository at PATH (default: the working
    /// directory), with python-roots guessed from the layout; never replaces an existing one.
    Init { path: Option<PathBuf> },
    /// Print the JSON schema of ssot.toml.
    Schema,
    /// Serve diagnostics, fixes and hovers to an editor: a Language Server Protocol server
    /// on standard input and output.
    Server,
    /// Print a shell completion script (`ssot-gardener completions bash > ...`).
    Completions {
        /// bash, elvish, fish, powershell or zsh.
        shell: clap_complete::Shell,
    },
}

/// The bundled reference manager (`reference/websocket_manager.py`).
pub const REFERENCE_MODULE: &str = include_str!("../reference/websocket_manager.py");

#[derive(Debug, clap::Args)]
struct AuditArgs {
    /// The repository (default: the working directory); its ssot.toml, when there is one,
    /// gives the roots and excludes (its concepts are not used).
    path: Option<PathBuf>,
    #[arg(long = "output-format", visible_alias = "format", value_enum, default_value_t = AuditFormat::Human)]
    format: AuditFormat,
    /// How many groups to show, best first (0: all).
    #[arg(long, default_value_t = 10, value_name = "N")]
    top: usize,
    /// Only the group with this key (`*WebSocket*Manager`, `WebSocketManager`) or concept
    /// name (`websocket-manager`).
    #[arg(long, value_name = "KEY")]
    family: Option<String>,
    /// Print the groups as ready `[[concept]]` blocks for ssot.toml instead of the report.
    #[arg(long, conflicts_with = "format")]
    emit_config: bool,
    /// Read every file instead of taking unchanged files' facts from `.ssot_cache/`.
    #[arg(long)]
    no_cache: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum AuditFormat {
    /// Ranked groups with their definitions, counts and likely canonical path.
    Human,
    /// The same as JSON.
    Json,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// The repository, or directories and files inside it to limit the report to (default:
    /// the working directory; the graph is always built from the whole repository, and
    /// ssot.toml is found from the first one).
    paths: Vec<PathBuf>,
    /// Check (or, with `--fix`, fix) the text on standard input as the file at PATH, as an
    /// editor or a formatter hook does: nothing on disk is read for PATH or written, the fixed
    /// text goes to standard output and the findings left to standard error.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["paths", "show_files"])]
    stdin_filename: Option<PathBuf>,
    /// How findings are printed (`--format` is the same flag).
    #[arg(long = "output-format", visible_alias = "format", value_enum, default_value_t = CheckFormat::Human)]
    format: CheckFormat,
    /// Write the report to FILE instead of standard output (without colours).
    #[arg(short = 'o', long, value_name = "FILE")]
    output_file: Option<PathBuf>,
    /// Exit 0 even when findings are reported (errors still exit 2).
    #[arg(long)]
    exit_zero: bool,
    /// Print how many findings each rule has instead of the findings.
    #[arg(long)]
    statistics: bool,
    /// With `fix`: exit 1 when a file was fixed, even if no finding is left.
    #[arg(long)]
    exit_non_zero_on_fix: bool,
    /// Print the files that would be checked, one a line, and stop.
    #[arg(long)]
    show_files: bool,
    /// Print the settings in use (the configuration file, roots, rules, concepts) and stop.
    #[arg(long)]
    show_settings: bool,
    #[command(flatten)]
    rules: RuleArgs,
    /// Apply the safe fixes, then report what is left.
    #[arg(long)]
    fix: bool,
    /// Apply the safe fixes and report nothing: exit 0 unless a file could not be written
    /// (or, with `--exit-non-zero-on-fix`, a file was fixed).
    #[arg(long)]
    fix_only: bool,
    /// Offer the unsafe fixes too (they may change behaviour): applied with `--fix`, shown with
    /// `--diff`, and without either only listed on the findings (nothing is written).
    #[arg(long)]
    unsafe_fixes: bool,
    /// Print the fixes as a unified diff and write nothing (exit 1 when there is a diff).
    #[arg(long)]
    diff: bool,
    /// Report only findings not in this baseline file (default: `[project] baseline`).
    #[arg(long, value_name = "FILE", conflicts_with = "no_baseline")]
    baseline: Option<PathBuf>,
    /// Report every finding, ignoring `[project] baseline`.
    #[arg(long)]
    no_baseline: bool,
    /// Fail when baseline entries match nothing any more (fixed since): the baseline must
    /// be rewritten to shrink, so it only ever ratchets down.
    #[arg(long)]
    strict_baseline: bool,
}

#[derive(Debug, clap::Args)]
struct BaselineArgs {
    /// The repository (or a directory inside it); the baseline always covers all of it.
    path: Option<PathBuf>,
    /// Write the baseline here (default: `[project] baseline`, else `ssot-baseline.json` in
    /// the repository root).
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    #[command(flatten)]
    rules: RuleArgs,
}

/// Which rules run, and the cache: shared by `check`, `fix` and `baseline`.
#[derive(Debug, clap::Args)]
struct RuleArgs {
    /// Only these rules: codes or code prefixes, comma-separated (`SSOT001,SSOT002`, `SSOT00`).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    select: Vec<String>,
    /// Not these rules: codes or code prefixes, comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    ignore: Vec<String>,
    /// Do not read or write the fact cache (`.ssot_cache/`).
    #[arg(long)]
    no_cache: bool,
}

impl RuleArgs {
    /// The selection, checked: every entry names a rule. `--select` and `--ignore` replace the
    /// configuration's `select` and `ignore` (each when given), as ruff's do.
    fn selection(&self, settings: &Settings) -> Result<Selection, Failure> {
        let pick = |given: &Vec<String>, configured: &Vec<String>| {
            if given.is_empty() {
                configured.clone()
            } else {
                given.clone()
            }
        };
        let selection = Selection {
            select: pick(&self.select, &settings.select),
            ignore: pick(&self.ignore, &settings.ignore),
        };
        selection
            .validate()
            .map_err(|message| Failure(format!("error: {message}")))?;
        Ok(selection)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    /// Source snippets with carets, help and the burn-down summary.
    Human,
    /// One line per finding: `path:line:col: CODE message`.
    Concise,
    /// Versioned JSON (see docs/check-format.md).
    Json,
    /// SARIF 2.1.0, for code scanning (GitHub, GitLab, Azure DevOps).
    Sarif,
    /// GitHub Actions workflow commands: annotations on the pull request.
    Github,
    /// JUnit XML, one test case per finding.
    Junit,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum GraphFormat {
    /// One line per imported name with its verdict.
    Text,
    /// The whole graph as versioned JSON (see docs/graph-format.md).
    Json,
    /// Counts only.
    Summary,
    /// With --concept: Graphviz.
    Dot,
    /// With --concept: a Mermaid flowchart.
    Mermaid,
    /// With --concept: one self-contained page (no network) that draws the graph, filters it
    /// by finding and shows each module's findings.
    Html,
}

/// An error for the user: printed as is, exit code 2.
struct Failure(String);

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // The flag beats FORCE_COLOR, which beats NO_COLOR (read by anstream's `auto`).
    let force = std::env::var_os("FORCE_COLOR").is_some_and(|value| !value.is_empty());
    let choice = match cli.color {
        Some(ColorWhen::Always) => anstream::ColorChoice::Always,
        Some(ColorWhen::Never) => anstream::ColorChoice::Never,
        Some(ColorWhen::Auto) => anstream::ColorChoice::Auto,
        None if force => anstream::ColorChoice::Always,
        None => anstream::ColorChoice::Auto,
    };
    choice.write_global();
    let _ = UI.set(Ui {
        quiet: cli.quiet,
        verbose: cli.verbose,
        color_files: cli.color == Some(ColorWhen::Always),
    });
    if cli.threads > 0 {
        // The resolver's parallel parts use rayon's pool: the same thread budget as the walk.
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(cli.threads)
            .build_global();
    }
    match run(cli) {
        Ok(code) => code,
        Err(Failure(message)) => {
            let _ = writeln!(anstream::stderr(), "{message}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Failure> {
    match cli.command {
        Command::Schema => {
            print!("{}", config::json_schema());
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            let mut out = std::io::stdout().lock();
            clap_complete::generate(shell, &mut Cli::command(), "ssot-gardener", &mut out);
            Ok(ExitCode::SUCCESS)
        }
        Command::Server => crate::server::run(cli.config, cli.threads)
            .map(|()| ExitCode::SUCCESS)
            .map_err(Failure),
        Command::Explain { rule } => explain(rule.as_deref()),
        Command::Reference { output } => reference(output.as_deref()),
        Command::Init { path } => init(path.as_deref(), cli.threads),
        Command::Audit(args) => audit(cli.config.as_deref(), cli.threads, &args),
        Command::Check(args) => check(cli.config.as_deref(), cli.threads, args),
        Command::Fix(mut args) => {
            args.fix = true;
            check(cli.config.as_deref(), cli.threads, args)
        }
        Command::Baseline(args) => baseline(cli.config.as_deref(), cli.threads, args),
        Command::Graph {
            path,
            format,
            concept: Some(name),
        } => concept_graph(
            cli.config.as_deref(),
            cli.threads,
            path.as_slice(),
            &name,
            format.unwrap_or(GraphFormat::Mermaid),
        ),
        Command::Graph {
            path,
            format,
            concept: None,
        } => {
            let format = format.unwrap_or(GraphFormat::Text);
            if matches!(
                format,
                GraphFormat::Dot | GraphFormat::Mermaid | GraphFormat::Html
            ) {
                return Err(Failure(
                    "error: `--format dot|mermaid|html` draws one concept: add `--concept NAME`"
                        .to_string(),
                ));
            }
            let (settings, prefixes) = settings(cli.config.as_deref(), path.as_slice())?;
            let prefix = prefixes.into_iter().next().unwrap_or_default();
            let graph = build_graph(&settings, cli.threads, false);
            report_skipped(&graph.skipped);
            // Buffered: the JSON serialiser writes a few bytes at a time, and a line-buffered
            // stdout would make a system call per line (minutes for a gigabyte of output).
            let mut out = std::io::BufWriter::with_capacity(1 << 16, anstream::stdout().lock());
            let written = match format {
                GraphFormat::Json => {
                    serde_json::to_writer_pretty(&mut out, &graph.to_json(&prefix))
                        .map_err(std::io::Error::from)
                        .and_then(|()| writeln!(out))
                }
                GraphFormat::Summary => write_summary(&mut out, &graph, &prefix),
                GraphFormat::Text => write_text(&mut out, &graph, &prefix),
                GraphFormat::Dot | GraphFormat::Mermaid | GraphFormat::Html => {
                    unreachable!("refused above")
                }
            }
            .and_then(|()| out.flush());
            // Freeing the whole graph at exit costs time and buys nothing.
            std::mem::forget(graph);
            match written {
                Ok(()) => Ok(ExitCode::SUCCESS),
                // `ssot-gardener graph | head` is not an error.
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => Err(Failure(format!("error: cannot write output: {error}"))),
            }
        }
    }
}

/// The graph, the concept tables and every finding (no fixes offered): what `baseline` and
/// `graph --concept` read.
fn checked(
    settings: &Settings,
    selection: &Selection,
    threads: usize,
    use_cache: bool,
) -> Result<(Graph, Vec<concept::ConceptTable>, Vec<rules::Finding>), Failure> {
    let graph = build_graph(settings, threads, use_cache);
    report_skipped(&graph.skipped);
    let tables = concept::build(&graph, &settings.concepts)
        .map_err(|errors| Failure(canonical_errors(settings, &errors)))?;
    let cx = rules::Context {
        graph: &graph,
        settings,
        tables: &tables,
        unsafe_fixes: false,
    };
    let findings = rules::check(&cx, selection);
    Ok((graph, tables, findings))
}

/// `graph --concept NAME`: the picture of one concept, from the same tables and findings as
/// `check`.
fn concept_graph(
    config: Option<&Path>,
    threads: usize,
    paths: &[PathBuf],
    name: &str,
    format: GraphFormat,
) -> Result<ExitCode, Failure> {
    if matches!(format, GraphFormat::Text | GraphFormat::Summary) {
        return Err(Failure(
            "error: `graph --concept` prints mermaid, dot, json or html".to_string(),
        ));
    }
    let (settings, _) = settings(config, paths)?;
    let Some(index) = settings
        .concepts
        .iter()
        .position(|concept| concept.name == name)
    else {
        let names: Vec<String> = settings
            .concepts
            .iter()
            .map(|concept| format!("`{}`", concept.name))
            .collect();
        return Err(Failure(if names.is_empty() {
            format!(
                "error: no concept `{name}`: the configuration declares none (`ssot-gardener audit --emit-config` suggests some)"
            )
        } else {
            format!(
                "error: no concept `{name}`; the configuration declares {}",
                names.join(", ")
            )
        }));
    };
    let selection = Selection {
        select: settings.select.clone(),
        ignore: settings.ignore.clone(),
    };
    let (graph, tables, findings) = checked(&settings, &selection, threads, false)?;
    let summary = render::summary(&graph, &settings, &tables, &findings);
    let Some((table, burn_down)) = tables
        .iter()
        .zip(summary.concepts)
        .find(|(table, _)| table.concept == index)
    else {
        return Err(Failure(format!("error: no concept `{name}`")));
    };
    let picture = crate::picture::build(&graph, table, burn_down, &findings);
    let text = match format {
        GraphFormat::Dot => crate::picture::dot(&picture),
        GraphFormat::Mermaid => crate::picture::mermaid(&picture),
        GraphFormat::Html => crate::picture::html(&picture),
        GraphFormat::Json => {
            let mut text = serde_json::to_string_pretty(&picture)
                .map_err(|error| Failure(format!("error: {error}")))?;
            text.push('\n');
            text
        }
        GraphFormat::Text | GraphFormat::Summary => unreachable!("refused above"),
    };
    std::mem::forget(graph);
    let mut out = anstream::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure(format!("error: cannot write output: {error}")))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn explain(rule: Option<&str>) -> Result<ExitCode, Failure> {
    let mut out = anstream::stdout().lock();
    let written = match rule {
        None => Rule::ALL.iter().try_for_each(|rule| {
            // The doc's first paragraph, on one line.
            let summary: Vec<&str> = rule
                .doc()
                .lines()
                .skip_while(|line| line.trim().is_empty() || line.starts_with('#'))
                .take_while(|line| !line.trim().is_empty())
                .map(str::trim)
                .collect();
            let summary = summary.join(" ");
            writeln!(out, "{} {:<26} {summary}", rule.code(), rule.name())
        }),
        Some(wanted) => {
            let Some(rule) = Rule::find(wanted) else {
                return Err(Failure(format!(
                    "error: unknown rule `{wanted}` (`ssot-gardener explain` lists them)"
                )));
            };
            write!(out, "{}", rule.doc())
        }
    };
    match written {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure(format!("error: cannot write output: {error}")))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

fn reference(output: Option<&Path>) -> Result<ExitCode, Failure> {
    let Some(path) = output else {
        let mut out = anstream::stdout().lock();
        return match out.write_all(REFERENCE_MODULE.as_bytes()) {
            Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(Failure(format!("error: cannot write output: {error}")))
            }
            _ => Ok(ExitCode::SUCCESS),
        };
    };
    create_new(path, REFERENCE_MODULE)?;
    say!(
        "wrote {}: point a concept's `canonical` at its `WebSocketManager`",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn init(path: Option<&Path>, threads: usize) -> Result<ExitCode, Failure> {
    let cwd = std::env::current_dir()
        .map_err(|error| Failure(format!("error: no working directory: {error}")))?;
    let root = path.map_or_else(|| cwd.clone(), |path| cwd.join(path));
    if !root.is_dir() {
        return Err(Failure(format!(
            "error: `{}` is not a directory",
            root.display()
        )));
    }
    let file = root.join("ssot.toml");
    if file.exists() {
        return Err(Failure(format!(
            "error: `{}` already exists; not replacing it",
            file.display()
        )));
    }
    // The starter's concept is the repository's most fragmented one, as `audit` ranks it.
    let settings = guessed_settings(root.clone());
    let graph = build_graph(&settings, threads, false);
    let audit = crate::audit::audit(&graph, 1, None);
    std::mem::forget(graph);
    let text = crate::init::starter_config(&root, audit.groups.first());
    create_new(&file, &text)?;
    say!(
        "wrote {}: fill in the [[concept]] block, then run `ssot-gardener check`",
        file.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Settings for a repository without ssot.toml: the roots `init` would write.
fn guessed_settings(root: PathBuf) -> Settings {
    let mut settings = Settings::defaults(root);
    let (python, rust) = crate::init::guess_roots(&settings.root);
    let normal = |root: String| {
        if root == "." {
            PathBuf::new()
        } else {
            PathBuf::from(root)
        }
    };
    settings.python_roots = python.into_iter().map(normal).collect();
    settings.rust_roots = rust.into_iter().map(normal).collect();
    settings
}

fn audit(config: Option<&Path>, threads: usize, args: &AuditArgs) -> Result<ExitCode, Failure> {
    let (mut settings, _) = settings(config, args.path.as_slice())?;
    if settings.config_path.is_none() {
        settings = guessed_settings(settings.root);
    }
    let graph = build_graph(&settings, threads, !args.no_cache);
    report_skipped(&graph.skipped);
    let mut timer = Timer::new();
    let audit = crate::audit::audit(&graph, args.top, args.family.as_deref());
    timer.lap("audit");
    std::mem::forget(graph);
    if let Some(wanted) = &args.family
        && audit.groups.is_empty()
    {
        return Err(Failure(format!(
            "error: no group `{wanted}` (`ssot-gardener audit --top 0` lists every group)"
        )));
    }
    let mut out = std::io::BufWriter::new(anstream::stdout().lock());
    let written = if args.emit_config {
        audit
            .groups
            .iter()
            .try_for_each(|group| writeln!(out, "{}", crate::audit::concept_block(group, "")))
    } else {
        match args.format {
            AuditFormat::Human => crate::audit::write_human(&mut out, &audit),
            AuditFormat::Json => serde_json::to_writer_pretty(&mut out, &audit)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out)),
        }
    }
    .and_then(|()| out.flush());
    match written {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure(format!("error: cannot write output: {error}")))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Writes a new file; an existing one is never replaced.
fn create_new(path: &Path, text: &str) -> Result<(), Failure> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path);
    let mut file = match file {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Failure(format!(
                "error: `{}` already exists; not replacing it",
                path.display()
            )));
        }
        Err(error) => {
            return Err(Failure(format!(
                "error: cannot create `{}`: {error}",
                path.display()
            )));
        }
    };
    file.write_all(text.as_bytes())
        .map_err(|error| Failure(format!("error: cannot write `{}`: {error}", path.display())))
}

fn check(config: Option<&Path>, threads: usize, mut args: CheckArgs) -> Result<ExitCode, Failure> {
    args.fix |= args.fix_only;
    // `--stdin-filename`: the buffer read first (a hook may close stdin early), then checked
    // as the file at that path.
    let stdin = match &args.stdin_filename {
        Some(path) => Some((path.clone(), read_stdin()?)),
        None => None,
    };
    let (settings, prefixes) = match &stdin {
        Some((path, _)) => stdin_settings(config, path)?,
        None if args.paths.is_empty() => {
            let (settings, _) = settings(config, &[])?;
            let scope = working_scope(&settings);
            (settings, scope)
        }
        None => settings(config, &args.paths)?,
    };
    let selection = args.rules.selection(&settings)?;
    if args.show_settings {
        return show_settings(&settings, &selection);
    }
    if ui().verbose {
        say!(
            "configuration: {}",
            settings.config_path.as_ref().map_or_else(
                || "none (defaults)".to_string(),
                |path| path.display().to_string()
            )
        );
        say!(
            "root: {}; python-roots: {}; rust-roots: {}; {}",
            settings.root.display(),
            join_paths(&settings.python_roots),
            join_paths(&settings.rust_roots),
            rules::plural(settings.concepts.len(), "concept")
        );
        if !prefixes.is_empty() {
            say!("reporting: {}", prefixes.join(", "));
        }
    }
    warn_without_concepts(&settings);
    let scope = Scope(prefixes);
    let baseline = load_baseline(&settings, &args)?;
    let use_cache = !args.rules.no_cache;
    let (mut walk, store) = walk_repository(&settings, threads, use_cache);
    report_skipped(&walk.skipped);
    if ui().verbose {
        let rust = walk
            .files
            .iter()
            .filter(|file| file.language == walk::Language::Rust)
            .count();
        say!(
            "walked {} ({} Python, {} Rust), {} other, {} skipped",
            rules::plural(walk.files.len(), "source file"),
            walk.files.len() - rust,
            rust,
            walk.other_files.len(),
            walk.skipped.len()
        );
    }
    let stdin_path = match stdin {
        Some((_, text)) => {
            let path = scope.0.first().cloned().unwrap_or_default();
            if walk.overlay(&settings, &path, text.clone()).is_none() {
                // Not a file the walk reads (another extension, excluded): nothing to check,
                // and a formatter hook gets its input back.
                say!("warning: `{path}` is not a checked source file: nothing to report");
                if args.fix && !args.diff {
                    write_stdout(&text)?;
                }
                return Ok(ExitCode::SUCCESS);
            }
            Some(path)
        }
        None => None,
    };
    if args.show_files {
        let mut out = report_sink(&args)?;
        let written = walk
            .files
            .iter()
            .filter(|file| scope.contains(&file.path))
            .try_for_each(|file| writeln!(out, "{}", file.path))
            .and_then(|()| out.flush());
        return match written {
            Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
                Err(Failure(format!("error: cannot write output: {error}")))
            }
            _ => Ok(ExitCode::SUCCESS),
        };
    }
    // An unchanged repository checked the same way again: the same bytes, without the
    // cross-file work.
    let inputs = (use_cache && !args.fix && !args.diff && stdin_path.is_none())
        .then(|| output_inputs(&settings, &walk, baseline.as_ref()))
        .flatten();
    let key = cache::key(&settings);
    if let Some(inputs) = inputs
        && let Some(output) = cache::output(&settings.root, key, inputs)
    {
        let mut out = report_sink(&args)?;
        let written = out.write_all(&output.stdout).and_then(|()| out.flush());
        let _ = anstream::stderr().lock().write_all(&output.stderr);
        if let Err(error) = written
            && error.kind() != std::io::ErrorKind::BrokenPipe
        {
            return Err(Failure(format!("error: cannot write output: {error}")));
        }
        return Ok(ExitCode::from(output.code));
    }
    let graph = resolve_walk(&settings, walk, store);
    // `--unsafe-fixes` alone shows the unsafe fixes and writes nothing, as in ruff.
    if args.fix || args.diff {
        return fix(
            graph,
            &settings,
            &selection,
            &args,
            &scope,
            baseline.as_ref(),
            stdin_path.as_deref(),
        );
    }
    let mut timer = Timer::new();
    let tables = concept::build(&graph, &settings.concepts)
        .map_err(|errors| Failure(canonical_errors(&settings, &errors)))?;
    timer.lap("concepts");
    let cx = rules::Context {
        graph: &graph,
        settings: &settings,
        tables: &tables,
        unsafe_fixes: args.unsafe_fixes,
    };
    let mut findings = rules::check(&cx, &selection);
    let matched = narrow(
        &mut findings,
        &graph,
        &settings,
        &scope,
        &selection,
        baseline.as_ref(),
    );
    timer.lap("rules");
    let mut summary = render::summary(&graph, &settings, &tables, &findings);
    summary.baseline = matched.clone();
    // Rendered into memory (styled: the terminal stream strips colours when it must), so the
    // same bytes can be kept for the next run.
    let mut stdout = Vec::with_capacity(1 << 16);
    let rendered = if args.statistics {
        statistics(&mut stdout, &findings)
    } else {
        report(
            &mut stdout,
            args.format,
            &graph,
            &settings,
            &findings,
            &summary,
        )
    };
    let mut out = report_sink(&args)?;
    let written = rendered.and_then(|()| out.write_all(&stdout).and_then(|()| out.flush()));
    drop(out);
    timer.lap("output");
    let mut stderr = Vec::new();
    let code = verdict(&mut stderr, &args, &findings, matched.as_ref(), false);
    let _ = anstream::stderr().lock().write_all(&stderr);
    let changed = report_changed(&graph);
    if let Some(inputs) = inputs
        && !changed
    {
        let output = cache::Output {
            stdout,
            stderr,
            code,
        };
        cache::save_output(&settings.root, key, inputs, &output);
    }
    std::mem::forget(graph);
    if let Err(error) = written
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(Failure(format!("error: cannot write output: {error}")));
    }
    Ok(ExitCode::from(code))
}

/// The hash of everything a `check`'s output depends on (see [`cache::output`]); `None` when
/// the binary's own identity cannot be read (then nothing is kept).
fn output_inputs(
    settings: &Settings,
    walk: &walk::Walk,
    baseline: Option<&(String, crate::baseline::Baseline)>,
) -> Option<u64> {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    let mut field = |bytes: &[u8]| {
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(bytes);
    };
    // The binary: a rebuilt one has another stamp.
    let exe = std::env::current_exe().ok()?;
    let stamp = cache::Stamp::of(&std::fs::metadata(exe).ok()?);
    field(&postcard::to_stdvec(&stamp).ok()?);
    field(env!("CARGO_PKG_VERSION").as_bytes());
    // The command line and where it runs.
    for arg in std::env::args_os().skip(1) {
        field(arg.as_encoded_bytes());
    }
    field(std::env::current_dir().ok()?.as_os_str().as_encoded_bytes());
    // The settings: the configuration file, as read now.
    field(settings.root.as_os_str().as_encoded_bytes());
    match &settings.config_path {
        Some(path) => {
            field(path.as_os_str().as_encoded_bytes());
            field(&std::fs::read(path).ok()?);
        }
        None => field(b"no configuration"),
    }
    // The repository.
    for file in &walk.files {
        field(file.path.as_bytes());
        field(&[file.language as u8]);
        field(&file.hash.to_le_bytes());
    }
    field(b"other files");
    for path in &walk.other_files {
        field(path.as_bytes());
    }
    field(b"skipped");
    for skipped in &walk.skipped {
        field(skipped.path.as_bytes());
        field(skipped.reason.as_bytes());
    }
    field(b"manifests");
    for (path, bytes) in &walk.manifests {
        field(path.as_bytes());
        field(bytes);
    }
    field(b"baseline");
    if let Some((shown, baseline)) = baseline {
        field(shown.as_bytes());
        field(&postcard::to_stdvec(baseline).ok()?);
    }
    Some(hasher.digest())
}

/// The exit code of a `check`: 1 for findings (after the baseline) and, under
/// `--strict-baseline`, for baseline entries that match nothing any more.
fn verdict(
    err: &mut Vec<u8>,
    args: &CheckArgs,
    findings: &[rules::Finding],
    matched: Option<&render::BaselineStatus>,
    failed: bool,
) -> u8 {
    let stale = matched.map_or(0, |status| status.stale);
    if let Some(status) = matched
        && args.format != CheckFormat::Human
        && !ui().quiet
    {
        // The human summary says it on stdout; the machine formats keep stdout clean.
        let _ = writeln!(err, "{}", render::baseline_line(status));
    }
    let strict_failure = args.strict_baseline && stale > 0;
    if strict_failure {
        let _ = writeln!(
            err,
            "error: --strict-baseline: {} in the baseline matched nothing; run `ssot-gardener baseline` to shrink it",
            rules::plural(stale, "entry")
        );
    }
    if failed {
        2
    } else if strict_failure {
        1
    } else if findings.is_empty() || args.exit_zero {
        0
    } else {
        1
    }
}

/// Where the report goes: standard output, or `-o FILE` (created or truncated; colours
/// stripped).
fn report_sink(args: &CheckArgs) -> Result<Box<dyn Write>, Failure> {
    Ok(match &args.output_file {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|error| {
                Failure(format!("error: cannot write `{}`: {error}", path.display()))
            })?;
            let choice = if ui().color_files {
                anstream::ColorChoice::Always
            } else {
                anstream::ColorChoice::Never
            };
            Box::new(std::io::BufWriter::new(anstream::AutoStream::new(
                file, choice,
            )))
        }
        None => Box::new(std::io::BufWriter::new(anstream::stdout().lock())),
    })
}

/// `--show-settings`: what this run would use, one `key = value` a line.
fn show_settings(settings: &Settings, selection: &Selection) -> Result<ExitCode, Failure> {
    let list = |items: &[String]| format!("{items:?}");
    let paths = |paths: &[PathBuf]| {
        list(
            &paths
                .iter()
                .map(|path| match path.to_string_lossy() {
                    name if name.is_empty() => ".".to_string(),
                    name => name.into_owned(),
                })
                .collect::<Vec<_>>(),
        )
    };
    let mut text = String::new();
    let config = settings
        .config_path
        .as_ref()
        .map_or_else(|| "(none)".to_string(), |path| path.display().to_string());
    text.push_str(&format!("configuration = {config}\n"));
    text.push_str(&format!("root = {}\n", settings.root.display()));
    text.push_str(&format!(
        "python-roots = {}\n",
        paths(&settings.python_roots)
    ));
    text.push_str(&format!("rust-roots = {}\n", paths(&settings.rust_roots)));
    text.push_str(&format!("exclude = {}\n", list(&settings.exclude)));
    let baseline = settings
        .baseline
        .as_ref()
        .map_or_else(|| "(none)".to_string(), |path| path.display().to_string());
    text.push_str(&format!("baseline = {baseline}\n"));
    for (glob, _, codes) in &settings.per_path_ignores {
        text.push_str(&format!("per-path-ignores.\"{glob}\" = {}\n", list(codes)));
    }
    let enabled: Vec<String> = rules::Rule::ALL
        .iter()
        .filter(|rule| selection.enabled(**rule))
        .map(|rule| rule.code().to_string())
        .collect();
    text.push_str(&format!("rules = {}\n", list(&enabled)));
    for concept in &settings.concepts {
        text.push_str(&format!(
            "concept.{} = {} (implementations {}, factories {}, allowed-factories {})\n",
            concept.name,
            concept.canonical,
            list(&concept.implementations),
            list(&concept.factories),
            list(&concept.allowed_factories)
        ));
    }
    let mut out = anstream::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure(format!("error: cannot write output: {error}")))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// `--statistics`: each rule's count of findings, most first (as ruff prints them).
fn statistics(out: &mut impl Write, findings: &[rules::Finding]) -> std::io::Result<()> {
    let mut counts: std::collections::BTreeMap<rules::Rule, (usize, usize)> =
        std::collections::BTreeMap::new();
    for finding in findings {
        let entry = counts.entry(finding.rule).or_default();
        entry.0 += 1;
        entry.1 += usize::from(finding.fix.is_some());
    }
    let mut rows: Vec<(rules::Rule, (usize, usize))> = counts.into_iter().collect();
    rows.sort_by_key(|&(rule, (count, _))| (std::cmp::Reverse(count), rule));
    for (rule, (count, fixable)) in rows {
        let mark = if fixable == count { "[*] " } else { "" };
        writeln!(out, "{count:>5}\t{}\t{mark}{}", rule.code(), rule.name())?;
    }
    out.flush()
}

/// The baseline to compare with: `--baseline FILE`, else `[project] baseline` unless
/// `--no-baseline`. A missing or unreadable baseline is an error (exit 2).
fn load_baseline(
    settings: &Settings,
    args: &CheckArgs,
) -> Result<Option<(String, crate::baseline::Baseline)>, Failure> {
    // Shown as written: on the command line, or relative to the root in ssot.toml.
    let (path, shown) = match (&args.baseline, &settings.baseline) {
        _ if args.no_baseline => return Ok(None),
        (Some(path), _) => (path.clone(), path.display().to_string()),
        (None, Some(path)) => (settings.root.join(path), path.display().to_string()),
        (None, None) => {
            if args.strict_baseline {
                return Err(Failure(
                    "error: --strict-baseline needs a baseline: `--baseline FILE` or `[project] baseline`"
                        .to_string(),
                ));
            }
            return Ok(None);
        }
    };
    let baseline = crate::baseline::Baseline::read(&path)
        .map_err(|why| Failure(format!("error: baseline `{shown}` {why}")))?;
    Ok(Some((shown, baseline)))
}

/// Keeps the findings under the PATHs of the run, then drops those the baseline accepts
/// (entries count as stale only for the paths and rules this run looked at).
fn narrow(
    findings: &mut Vec<rules::Finding>,
    graph: &Graph,
    settings: &Settings,
    scope: &Scope,
    selection: &Selection,
    baseline: Option<&(String, crate::baseline::Baseline)>,
) -> Option<render::BaselineStatus> {
    findings.retain(|finding| scope.contains(&finding.path));
    let (path, baseline) = baseline?;
    let (fresh, matched) = baseline.filter(graph, settings, std::mem::take(findings), &|entry| {
        scope.contains(&entry.path)
            && Rule::find(&entry.rule).is_some_and(|rule| selection.enabled(rule))
    });
    *findings = fresh;
    Some(render::BaselineStatus::new(path.clone(), matched))
}

/// `ssot-gardener baseline`: every finding of the whole repository, written sorted.
fn baseline(
    config: Option<&Path>,
    threads: usize,
    args: BaselineArgs,
) -> Result<ExitCode, Failure> {
    let (settings, _) = settings(config, args.path.as_slice())?;
    let selection = args.rules.selection(&settings)?;
    let path = match (&args.baseline, &settings.baseline) {
        (Some(path), _) => path.clone(),
        (None, Some(path)) => settings.root.join(path),
        (None, None) => settings.root.join("ssot-baseline.json"),
    };
    // A path from the repository's own configuration is untrusted input: it must not lead
    // out of the repository (a `--baseline` on the command line is the user's own choice).
    if args.baseline.is_none() && !leads_inside(&settings.root, &path) {
        return Err(Failure(format!(
            "error: the baseline `{}` leads outside the repository (through a symlink); give a path with --baseline to write there",
            path.strip_prefix(&settings.root).unwrap_or(&path).display()
        )));
    }
    let (graph, _, findings) = checked(&settings, &selection, threads, !args.rules.no_cache)?;
    let baseline = crate::baseline::Baseline::from_findings(&graph, &settings, &findings);
    let files: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|finding| finding.path.as_str())
        .collect();
    write_atomic(&path, baseline.to_json().as_bytes())
        .map_err(|error| Failure(format!("error: cannot write `{}`: {error}", path.display())))?;
    say!(
        "wrote {}: {} in {}",
        path.display(),
        rules::plural(findings.len(), "finding"),
        rules::plural(files.len(), "file")
    );
    if settings.baseline.is_none() && args.baseline.is_none() {
        say!(
            "hint: add `baseline = \"ssot-baseline.json\"` to `[project]` in ssot.toml so that `check` uses it"
        );
    }
    std::mem::forget(graph);
    Ok(ExitCode::SUCCESS)
}

/// The paths a run reports on: `/`-separated prefixes relative to the repository root; none
/// means the whole repository.
struct Scope(Vec<String>);

impl Scope {
    fn contains(&self, path: &str) -> bool {
        self.0.is_empty()
            || self
                .0
                .iter()
                .any(|prefix| crate::graph::under(path, prefix))
    }
}

/// Whether `path`'s directory, with every symlink followed, is inside `root`.
fn leads_inside(root: &Path, path: &Path) -> bool {
    let directory = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (
        std::fs::canonicalize(root),
        std::fs::canonicalize(directory),
    ) {
        (Ok(root), Ok(directory)) => directory.starts_with(root),
        // A directory that does not exist yet cannot be written into either.
        _ => true,
    }
}

/// Replaces `path` by a rename from a temporary file created new beside it (never written
/// through a symlink; a link at `path` itself is replaced, not followed).
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let directory = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = directory.join(format!(".{name}.{}.tmp", std::process::id()));
    if std::fs::symlink_metadata(&temporary).is_ok() {
        std::fs::remove_file(&temporary)?;
    }
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .and_then(|mut file| file.write_all(bytes))
        .and_then(|()| std::fs::rename(&temporary, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// `fix` and `check --fix/--diff`: the fix loop, then the files written (or the diff shown),
/// then the findings that are left.
fn fix(
    graph: Graph,
    settings: &Settings,
    selection: &Selection,
    args: &CheckArgs,
    scope: &Scope,
    baseline: Option<&(String, crate::baseline::Baseline)>,
    stdin: Option<&str>,
) -> Result<ExitCode, Failure> {
    let outcome = crate::fix::fix(graph, settings, selection, args.unsafe_fixes, &|path| {
        scope.contains(path)
    })
    .map_err(|errors| Failure(canonical_errors(settings, &errors)))?;
    let mut err = anstream::stderr().lock();
    for (path, reason) in &outcome.failures {
        let _ = writeln!(err, "error: {path}: {reason}");
    }
    let changed: Vec<(usize, &Vec<u8>)> = outcome
        .originals
        .iter()
        .filter(|(file, original)| outcome.graph.files[**file].text() != **original)
        .map(|(file, original)| (*file, original))
        .collect();
    // A buffer from stdin: its fixed text is the output, so the findings left go to stderr.
    let mut out: Box<dyn Write> = match stdin {
        Some(_) if !args.diff => Box::new(std::io::BufWriter::new(anstream::stderr())),
        _ => report_sink(args)?,
    };
    let mut failed = !outcome.failures.is_empty();
    if args.diff {
        for &(file, original) in &changed {
            let source = &outcome.graph.files[file];
            let old = String::from_utf8_lossy(original);
            let new = String::from_utf8_lossy(source.text());
            let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
            let _ = write!(
                out,
                "{}",
                diff.unified_diff()
                    .header(&format!("a/{}", source.path), &format!("b/{}", source.path))
            );
        }
        let _ = out.flush();
        say!(
            "Would fix {} in {}.",
            rules::plural(outcome.applied, "finding"),
            rules::plural(changed.len(), "file")
        );
        return Ok(if failed {
            ExitCode::from(2)
        } else if changed.is_empty() || args.exit_zero {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    let (written, fixed, unwritten) = match stdin {
        Some(path) => {
            // Nothing on disk is written: the buffer, fixed or not, goes back on stdout.
            if let Some(source) = outcome.graph.files.iter().find(|file| file.path == path) {
                write_stdout(source.text())?;
            }
            (changed.len(), outcome.applied, Vec::new())
        }
        None => match write_changed(settings, &outcome, &changed, &mut err) {
            Some(written) => written,
            // 128 + SIGINT, as a shell reports a run stopped by Ctrl-C.
            None => return Ok(ExitCode::from(130)),
        },
    };
    failed |= !unwritten.is_empty();
    // What was written: the fixes of a file left as it was are not counted.
    say!(
        "Fixed {} in {}.",
        rules::plural(fixed, "finding"),
        rules::plural(written, "file")
    );
    if !unwritten.is_empty() {
        say!(
            "note: {} not written: the report below is of the files as they are on disk",
            rules::plural(unwritten.len(), "file")
        );
    }
    drop(err);
    if args.fix_only {
        return Ok(ExitCode::from(if failed {
            2
        } else {
            u8::from(args.exit_non_zero_on_fix && written > 0)
        }));
    }
    // The report is of what is on disk: the fixed texts, unless a file could not be written.
    let restore: Vec<(usize, Vec<u8>)> = unwritten
        .iter()
        .filter_map(|file| Some((*file, outcome.originals.get(file)?.clone())))
        .collect();
    let (graph, tables, mut findings) = if restore.is_empty() {
        (outcome.graph, outcome.tables, outcome.findings)
    } else {
        crate::fix::on_disk(
            outcome.graph,
            settings,
            selection,
            args.unsafe_fixes,
            restore,
        )
        .map_err(|errors| Failure(canonical_errors(settings, &errors)))?
    };
    let matched = narrow(&mut findings, &graph, settings, scope, selection, baseline);
    let mut summary = render::summary(&graph, settings, &tables, &findings);
    summary.baseline = matched.clone();
    let shown = if args.statistics {
        statistics(&mut out, &findings)
    } else {
        report(&mut out, args.format, &graph, settings, &findings, &summary)
    };
    if let Err(error) = shown
        && error.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(Failure(format!("error: cannot write output: {error}")));
    }
    let mut err = Vec::new();
    let mut code = verdict(&mut err, args, &findings, matched.as_ref(), failed);
    if args.exit_non_zero_on_fix && written > 0 && code == 0 {
        code = 1;
    }
    let _ = anstream::stderr().lock().write_all(&err);
    Ok(ExitCode::from(code))
}

/// Writes the fixed files, Ctrl-C (SIGINT) or SIGTERM held between two files: each file is
/// then old or new, and no temporary is left (SIGKILL can still leave one, never a
/// half-written file). Returns the files written, the fixes in them and the files that could
/// not be written; `None` when a signal stopped it (said on stderr).
fn write_changed(
    settings: &Settings,
    outcome: &crate::fix::Outcome,
    changed: &[(usize, &Vec<u8>)],
    err: &mut impl Write,
) -> Option<(usize, usize, Vec<usize>)> {
    remove_stale_temporaries(&settings.root, &outcome.graph.other_files);
    // Before this point nothing is on disk and the default handling stands.
    let interrupted = Arc::new(AtomicBool::new(false));
    let hooks: Vec<_> = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM]
        .into_iter()
        .filter_map(|signal| signal_hook::flag::register(signal, Arc::clone(&interrupted)).ok())
        .collect();
    let (mut written, mut fixed) = (0, 0);
    let mut unwritten: Vec<usize> = Vec::new();
    for &(file, original) in changed {
        if interrupted.load(Ordering::SeqCst) {
            break;
        }
        let source = &outcome.graph.files[file];
        // The walker's own path: `source.path` is for display (lossy for a name that is not
        // UTF-8).
        let path = source
            .location()
            .map_or_else(|| settings.root.join(&source.path), Path::to_path_buf);
        match write_fixed(&settings.root, &path, original, source.text()) {
            Ok(again) => {
                written += usize::from(again);
                fixed += outcome.applied_by_file.get(&file).copied().unwrap_or(0);
            }
            Err(reason) => {
                unwritten.push(file);
                let _ = writeln!(err, "error: {}: {reason}", source.path);
            }
        }
    }
    for hook in hooks {
        signal_hook::low_level::unregister(hook);
    }
    if interrupted.load(Ordering::SeqCst) {
        let _ = writeln!(
            err,
            "Interrupted: wrote {} of {}; the others are unchanged.",
            written,
            rules::plural(changed.len(), "changed file")
        );
        return None;
    }
    Some((written, fixed, unwritten))
}

/// Writes `bytes` to standard output as they are (no colour handling: it is source text).
fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Failure(format!("error: cannot write output: {error}")))
        }
        _ => Ok(()),
    }
}

/// All of standard input (`--stdin-filename`).
fn read_stdin() -> Result<Vec<u8>, Failure> {
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut text)
        .map_err(|error| Failure(format!("error: cannot read standard input: {error}")))?;
    Ok(text)
}

/// The settings for a buffer checked as the file at `path` (which need not exist: a new
/// buffer), and its root-relative path as the one prefix reported.
fn stdin_settings(config: Option<&Path>, path: &Path) -> Result<(Settings, Vec<String>), Failure> {
    let Some(name) = path.file_name() else {
        return Err(Failure(format!(
            "error: --stdin-filename `{}` names no file",
            path.display()
        )));
    };
    let directory = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (settings, prefixes) = settings(config, &[directory.to_path_buf()])?;
    let directory = prefixes.into_iter().next().unwrap_or_default();
    let name = walk::relative_path(Path::new(""), Path::new(name));
    let file = if directory.is_empty() {
        name
    } else {
        format!("{directory}/{name}")
    };
    Ok((settings, vec![file]))
}

/// What `check` reports when given no path: the working directory's part of the repository
/// (all of it when run at the root or outside it), as ruff checks `.`.
fn working_scope(settings: &Settings) -> Vec<String> {
    let (Ok(cwd), Ok(root)) = (
        std::env::current_dir().and_then(std::fs::canonicalize),
        std::fs::canonicalize(&settings.root),
    ) else {
        return Vec::new();
    };
    match cwd.strip_prefix(&root) {
        Ok(inside) if !inside.as_os_str().is_empty() => {
            vec![walk::relative_path(Path::new(""), inside)]
        }
        _ => Vec::new(),
    }
}

fn join_paths(paths: &[PathBuf]) -> String {
    if paths.is_empty() {
        return "none".to_string();
    }
    let shown: Vec<String> = paths
        .iter()
        .map(|path| match path.as_os_str().is_empty() {
            true => ".".to_string(),
            false => path.display().to_string(),
        })
        .collect();
    shown.join(", ")
}

/// How a root-relative path is shown so that it opens from the working directory.
enum DisplayBase {
    /// The root is below the working directory: this prefix first (`repo/`).
    Below(String),
    /// The working directory is this far below the root (`["pkg", "sub"]`).
    Above(Vec<String>),
    /// Unrelated directories: the absolute path.
    Absolute(PathBuf),
}

impl DisplayBase {
    fn show(&self, path: &str) -> String {
        match self {
            DisplayBase::Below(prefix) => format!("{prefix}{path}"),
            DisplayBase::Above(parts) => {
                let mut rest = path;
                let mut shared = 0;
                for part in parts {
                    match rest
                        .strip_prefix(part.as_str())
                        .and_then(|r| r.strip_prefix('/'))
                    {
                        Some(after) => {
                            rest = after;
                            shared += 1;
                        }
                        None => break,
                    }
                }
                format!("{}{rest}", "../".repeat(parts.len() - shared))
            }
            DisplayBase::Absolute(root) => root.join(path).display().to_string(),
        }
    }
}

/// `None` when the working directory is the root (paths are shown as they are).
fn display_base(settings: &Settings) -> Option<DisplayBase> {
    let cwd = std::env::current_dir()
        .and_then(std::fs::canonicalize)
        .ok()?;
    let root = std::fs::canonicalize(&settings.root).ok()?;
    if cwd == root {
        return None;
    }
    if let Ok(below) = root.strip_prefix(&cwd) {
        return Some(DisplayBase::Below(format!(
            "{}/",
            walk::relative_path(Path::new(""), below)
        )));
    }
    if let Ok(above) = cwd.strip_prefix(&root) {
        let parts = walk::relative_path(Path::new(""), above)
            .split('/')
            .map(str::to_string)
            .collect();
        return Some(DisplayBase::Above(parts));
    }
    Some(DisplayBase::Absolute(root))
}

/// The findings in the chosen format, flushed.
fn report(
    out: &mut impl Write,
    format: CheckFormat,
    graph: &Graph,
    settings: &Settings,
    findings: &[rules::Finding],
    summary: &render::Summary,
) -> std::io::Result<()> {
    // The human formats name files as they open from the working directory; the machine
    // formats keep root-relative paths (stable across machines, as baselines and CI need).
    let shown;
    let findings = match (format, display_base(settings)) {
        (CheckFormat::Human | CheckFormat::Concise, Some(base)) => {
            shown = findings
                .iter()
                .map(|finding| {
                    let mut finding = finding.clone();
                    finding.path = base.show(&finding.path);
                    finding
                })
                .collect::<Vec<_>>();
            &shown[..]
        }
        _ => findings,
    };
    match format {
        CheckFormat::Human if ui().quiet => render::human(out, graph, findings),
        CheckFormat::Human => {
            render::human(out, graph, findings).and_then(|()| render::human_summary(out, summary))
        }
        CheckFormat::Concise => render::concise(out, graph, findings),
        CheckFormat::Json => render::json(out, graph, settings, findings, summary),
        CheckFormat::Sarif => render::sarif(out, graph, settings, findings),
        CheckFormat::Github => render::github(out, graph, findings),
        CheckFormat::Junit => render::junit(out, graph, findings),
    }
    .and_then(|()| out.flush())
}

/// Removes the temporaries an earlier `fix` left when it was killed (SIGKILL between creating
/// one and renaming it): exactly `.NAME.ssot-fix.PID.tmp`, and only when process PID is gone.
fn remove_stale_temporaries(root: &Path, other_files: &[String]) {
    for path in other_files {
        let name = path.rsplit('/').next().unwrap_or(path);
        let Some(pid) = name
            .strip_prefix('.')
            .and_then(|rest| rest.strip_suffix(".tmp"))
            .and_then(|rest| rest.rsplit_once(".ssot-fix."))
            .filter(|(original, _)| !original.is_empty())
            .and_then(|(_, pid)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || process_alive(pid) {
            continue;
        }
        let full = root.join(path);
        // Only a regular file of that name: never a link, never a directory.
        if std::fs::symlink_metadata(&full).is_ok_and(|m| m.file_type().is_file())
            && std::fs::remove_file(&full).is_ok()
        {
            say!("note: removed `{path}`, left by an interrupted fix");
        }
    }
}

/// Whether process `pid` exists; where that cannot be known, it is taken to exist.
fn process_alive(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        Path::new("/proc").join(pid.to_string()).exists()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        true
    }
}

/// Writes `fixed` over the file at `path`, which must still hold `original`, atomically (a
/// temporary file renamed over it). A symbolic link is followed and its target written, the
/// link kept; the target must be inside `root` (the walker follows no link out of it). A file
/// reached by two paths (a link and its target) is written once: the second finds the fixed
/// text already there (`Ok(false)`: nothing written).
fn write_fixed(root: &Path, path: &Path, original: &[u8], fixed: &[u8]) -> Result<bool, String> {
    let target =
        std::fs::canonicalize(path).map_err(|error| format!("cannot read it again: {error}"))?;
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    if !target.starts_with(&root) {
        return Err(format!(
            "a symbolic link to `{}`, outside the repository; not written",
            target.display()
        ));
    }
    let path = target.as_path();
    let (is_original, is_fixed) = compare_file(path, original, fixed)
        .map_err(|error| format!("cannot read it again: {error}"))?;
    if is_fixed && !is_original {
        return Ok(false);
    }
    if !is_original {
        return Err("changed on disk since it was read; not written".to_string());
    }
    let permissions = std::fs::metadata(path)
        .map_err(|error| format!("cannot read its permissions: {error}"))?
        .permissions();
    let directory = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = directory.join(format!(".{name}.ssot-fix.{}.tmp", std::process::id()));
    let result = std::fs::write(&temporary, fixed)
        .and_then(|()| std::fs::set_permissions(&temporary, permissions))
        .and_then(|()| std::fs::rename(&temporary, path));
    if let Err(error) = result {
        let _ = std::fs::remove_file(&temporary);
        return Err(format!("cannot write: {error}"));
    }
    Ok(true)
}

/// Whether the file at `path` holds `first`, and whether it holds `second`: read in pieces,
/// not whole (a big file is not held a third time beside its old and new texts).
fn compare_file(path: &Path, first: &[u8], second: &[u8]) -> std::io::Result<(bool, bool)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut buffer = vec![0; 1 << 16];
    let (mut at, mut same_first, mut same_second) = (0, true, true);
    loop {
        let read = match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        let piece = &buffer[..read];
        same_first &= first.get(at..at + read) == Some(piece);
        same_second &= second.get(at..at + read) == Some(piece);
        at += read;
        if !same_first && !same_second {
            break;
        }
    }
    Ok((
        same_first && at == first.len(),
        same_second && at == second.len(),
    ))
}

/// A `canonical` that names nothing, pointed at in ssot.toml, with the nearest definitions.
fn canonical_errors(settings: &Settings, errors: &[concept::CanonicalError]) -> String {
    let source = settings
        .config_path
        .as_ref()
        .and_then(|path| std::fs::read_to_string(path).ok())
        .unwrap_or_default();
    let path = settings.config_path.clone().unwrap_or_default();
    errors
        .iter()
        .map(|error| {
            let concept = &settings.concepts[error.concept];
            let span =
                config::concept_value_span(&source, error.concept, error.key).unwrap_or(0..0);
            let (message, label) = if error.key == "public" {
                (
                    format!(
                        "public path of concept `{}` is not the canonical class: {}",
                        concept.name, error.message
                    ),
                    "not the canonical class",
                )
            } else if error.not_a_class {
                (
                    format!(
                        "canonical path of concept `{}` names no class: {}",
                        concept.name, error.message
                    ),
                    "not a class",
                )
            } else {
                (
                    format!(
                        "canonical path of concept `{}` names no definition: {}",
                        concept.name, error.message
                    ),
                    "not found in the repository",
                )
            };
            let mut text =
                config::ConfigError::at(&path, &source, span, message, label).to_string();
            if !error.nearest.is_empty() {
                let nearest: Vec<String> = error
                    .nearest
                    .iter()
                    .map(|path| format!("`{path}`"))
                    .collect();
                text.push_str(&format!(
                    "\n  = help: the nearest existing definitions: {}",
                    nearest.join(", ")
                ));
            }
            text
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The walk, the collection and the resolution: the whole core pipeline. With `use_cache`,
/// per-file facts come from `.ssot_cache/` when the file's content is unchanged, and the
/// cache is rewritten when anything changed.
pub fn build_graph(settings: &Settings, threads: usize, use_cache: bool) -> Graph {
    let (walk, store) = walk_repository(settings, threads, use_cache);
    resolve_walk(settings, walk, store)
}

/// The walk, with facts from the cache and the cache brought up to date; the facts of files
/// known by their stamps are left in the returned store until `resolve_walk`.
pub(crate) fn walk_repository(
    settings: &Settings,
    threads: usize,
    use_cache: bool,
) -> (walk::Walk, Option<cache::Store>) {
    let mut timer = Timer::new();
    let store = use_cache.then(|| cache::Store::load(&settings.root, cache::key(settings)));
    timer.lap("cache load");
    let walk = walk::walk(settings, threads, store.as_ref());
    timer.lap("walk and collect");
    if let Some(store) = &store {
        store.save(&walk.files, walk.started);
        timer.lap("cache save");
    }
    (walk, store)
}

pub(crate) fn resolve_walk(
    settings: &Settings,
    mut walk: walk::Walk,
    store: Option<cache::Store>,
) -> Graph {
    let mut timer = Timer::new();
    if walk.has_pending() {
        walk.load_facts(store.as_ref());
        timer.lap("cached facts");
    }
    drop(store);
    let graph = python::resolve::resolve(walk, &settings.python_roots);
    timer.lap("resolve");
    graph
}

/// Phase timings on stderr under `-v`: for measuring, never for tests.
struct Timer(Option<std::time::Instant>);

impl Timer {
    fn new() -> Timer {
        Timer(ui().verbose.then(std::time::Instant::now))
    }

    fn lap(&mut self, what: &str) {
        if let Some(start) = &mut self.0 {
            let _ = writeln!(
                anstream::stderr(),
                "timing: {what}: {:.1?}",
                start.elapsed()
            );
            *start = std::time::Instant::now();
        }
    }
}

/// A `check` with no `[[concept]]` runs only the repository-wide rules: said on stderr, so an
/// empty or missing `ssot.toml` is not mistaken for a clean repository.
fn warn_without_concepts(settings: &Settings) {
    if !settings.concepts.is_empty() || ui().quiet {
        return;
    }
    let whole: Vec<&str> = rules::Rule::ALL
        .iter()
        .filter(|rule| !rule.per_concept())
        .map(|rule| rule.code())
        .collect();
    let what = match &settings.config_path {
        Some(path) => format!("`{}` declares no `[[concept]]`", path.display()),
        None => format!(
            "no `{}` in `{}` or above it",
            config::CONFIG_FILE_NAME,
            settings.root.display()
        ),
    };
    let _ = writeln!(
        anstream::stderr(),
        "warning: {what}: only the repository-wide rules ({}) run; `ssot-gardener init` \
         proposes concepts",
        whole.join(", ")
    );
}

/// The settings of the repository at `root` (its `ssot.toml` found upward from it, or
/// `config`) and the rules they select: what the editor server checks with.
pub(crate) fn load_settings(
    config: Option<&Path>,
    root: &Path,
) -> Result<(Settings, Selection), String> {
    let (settings, _) =
        settings(config, &[root.to_path_buf()]).map_err(|Failure(message)| message)?;
    let selection = Selection {
        select: settings.select.clone(),
        ignore: settings.ignore.clone(),
    };
    selection
        .validate()
        .map_err(|message| format!("error: {message}"))?;
    Ok((settings, selection))
}

/// Loads the settings and returns them with the output prefix: the `/`-separated path of
/// `path` relative to the repository root (empty for the whole repository).
fn settings(
    config_path: Option<&Path>,
    paths: &[PathBuf],
) -> Result<(Settings, Vec<String>), Failure> {
    let cwd = std::env::current_dir()
        .map_err(|error| Failure(format!("error: no working directory: {error}")))?;
    for path in paths {
        if !cwd.join(path).exists() {
            return Err(Failure(format!(
                "error: `{}` does not exist",
                path.display()
            )));
        }
    }
    let target = paths
        .first()
        .map_or_else(|| cwd.clone(), |path| cwd.join(path));
    let config_file = match config_path {
        Some(file) => {
            if std::fs::symlink_metadata(file).is_err() {
                return Err(Failure(format!(
                    "error: config file `{}` does not exist",
                    file.display()
                )));
            }
            config::regular_file(file).map_err(Failure)?;
            Some(cwd.join(file))
        }
        None => config::find_config(&target).map_err(Failure)?,
    };
    let mut settings = match &config_file {
        // `--config FILE`: its relative paths (and the root) are the working directory's, as
        // ruff reads a configuration given on the command line.
        Some(file) if config_path.is_some() => {
            config::load_in(file, Some(&cwd)).map_err(|error| Failure(error.to_string()))?
        }
        Some(file) => config::load(file).map_err(|error| Failure(error.to_string()))?,
        None => Settings::defaults(if target.is_dir() {
            target.clone()
        } else {
            target
                .parent()
                .map_or_else(|| cwd.clone(), Path::to_path_buf)
        }),
    };
    if settings.root.as_os_str().is_empty() {
        settings.root = PathBuf::from(".");
    }
    let canonical =
        |path: &Path| std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let root = canonical(&settings.root);
    let mut prefixes = Vec::with_capacity(paths.len());
    for path in paths {
        let target = canonical(&cwd.join(path));
        let Ok(inside) = target.strip_prefix(&root) else {
            return Err(Failure(format!(
                "error: `{}` is outside the repository root `{}`",
                target.display(),
                root.display()
            )));
        };
        prefixes.push(walk::relative_path(Path::new(""), inside));
    }
    if prefixes.iter().any(String::is_empty) {
        // One of them is the whole repository.
        prefixes.clear();
    }
    Ok((settings, prefixes))
}

fn report_skipped(skipped: &[walk::Skipped]) {
    if ui().quiet {
        return;
    }
    let mut err = anstream::stderr().lock();
    for skipped in skipped {
        let _ = writeln!(
            err,
            "warning: skipped `{}`: {}",
            skipped.path, skipped.reason
        );
    }
}

/// Files whose text was read again (to show a finding) and no longer held the bytes their
/// facts came from: edited while the check ran.
/// Returns whether there was one.
fn report_changed(graph: &Graph) -> bool {
    let mut err = anstream::stderr().lock();
    let mut any = false;
    for file in graph.files.iter().filter(|file| file.changed_on_disk()) {
        any = true;
        if ui().quiet {
            continue;
        }
        let _ = writeln!(
            err,
            "warning: `{}` changed during the run: its findings are shown without their source lines; run again",
            file.path
        );
    }
    any
}

fn write_summary(out: &mut impl Write, graph: &Graph, prefix: &str) -> std::io::Result<()> {
    let summary = graph.summary(prefix);
    writeln!(out, "files:            {}", summary.files)?;
    writeln!(out, "bytes:            {}", summary.bytes)?;
    writeln!(out, "modules:          {}", summary.modules)?;
    writeln!(out, "definitions:      {}", summary.definitions)?;
    writeln!(out, "imported names:   {}", summary.imported_names)?;
    writeln!(out, "  resolved:       {}", summary.resolved)?;
    writeln!(out, "  external:       {}", summary.external)?;
    writeln!(out, "  missing name:   {}", summary.missing_name)?;
    writeln!(out, "  missing module: {}", summary.missing_module)?;
    writeln!(out, "  dynamic:        {}", summary.dynamic)?;
    writeln!(
        out,
        "files with syntax errors: {}",
        summary.files_with_errors
    )?;
    writeln!(out, "skipped files:    {}", summary.skipped)
}

/// `path:line:col: from .x import Y -> pkg.impl:Y (class)`, one line per imported name.
fn write_text(out: &mut impl Write, graph: &Graph, prefix: &str) -> std::io::Result<()> {
    for module in &graph.modules {
        let file = &graph.files[module.file];
        if !crate::graph::under(&file.path, prefix) {
            continue;
        }
        let lines = crate::facts::LineIndex::new(file.text());
        for error in &file.facts.errors {
            let (line, column) = lines.line_column(file.text(), error.span.start);
            writeln!(
                out,
                "{}:{line}:{column}: syntax error: {}",
                file.path, error.message
            )?;
        }
        for (index, import) in file.facts.imports.iter().enumerate() {
            for (name_index, name) in import.names.iter().enumerate() {
                let (line, column) = lines.line_column(file.text(), name.span.start);
                let rust = file.language == crate::walk::Language::Rust;
                let written = match import.kind {
                    crate::facts::ImportKind::Module if rust => {
                        format!("extern crate {}", name.name)
                    }
                    crate::facts::ImportKind::From if rust => {
                        let prefix = format!(
                            "{}{}",
                            "super::".repeat(import.level as usize),
                            import.module
                        );
                        match prefix.as_str() {
                            "" => format!("use {}", name.name),
                            "::" => format!("use ::{}", name.name),
                            prefix => {
                                format!("use {}::{}", prefix.trim_end_matches("::"), name.name)
                            }
                        }
                    }
                    crate::facts::ImportKind::Module => format!("import {}", name.name),
                    crate::facts::ImportKind::From => format!(
                        "from {}{} import {}",
                        ".".repeat(import.level as usize),
                        import.module,
                        name.name
                    ),
                };
                let alias = name
                    .alias
                    .as_ref()
                    .map(|alias| format!(" as {alias}"))
                    .unwrap_or_default();
                let verdict = module
                    .resolutions
                    .get(index)
                    .and_then(|r| r.get(name_index));
                writeln!(
                    out,
                    "{}:{line}:{column}: {written}{alias} -> {}",
                    file.path,
                    describe(verdict)
                )?;
            }
        }
    }
    Ok(())
}

fn describe(resolution: Option<&Resolution>) -> String {
    match resolution {
        None => "unresolved".to_string(),
        Some(Resolution::Resolved { origins }) => origins
            .iter()
            .map(|origin| {
                let kind = format!("{:?}", origin.kind).to_lowercase();
                match &origin.symbol {
                    Some(symbol) => format!("{}:{symbol} ({kind})", origin.module),
                    None => format!("{} ({kind})", origin.module),
                }
            })
            .collect::<Vec<_>>()
            .join(" | "),
        Some(Resolution::MissingName { module }) => format!("missing name in {module}"),
        Some(Resolution::MissingModule { module }) => format!("missing module {module}"),
        Some(Resolution::External { module }) => format!("external ({module})"),
        Some(Resolution::Dynamic { module }) => format!("dynamic ({module} defines __getattr__)"),
    }
}

#[cfg(test)]
mod tests {
    use super::write_fixed;

    #[test]
    fn a_file_changed_since_it_was_read_is_left_alone() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("a.py");
        std::fs::write(&path, "edited by someone else\n").expect("write");
        let error =
            write_fixed(dir.path(), &path, b"what was read\n", b"fixed\n").expect_err("refused");
        assert!(error.contains("changed on disk"), "{error}");
        assert_eq!(
            std::fs::read(&path).expect("read"),
            b"edited by someone else\n"
        );
        write_fixed(dir.path(), &path, b"edited by someone else\n", b"fixed\n").expect("written");
        assert_eq!(std::fs::read(&path).expect("read"), b"fixed\n");
        let leftovers = std::fs::read_dir(dir.path()).expect("list").count();
        assert_eq!(leftovers, 1, "no temporary file is left");
    }

    /// A link is followed: its target gets the fixed text, the link stays a link, and the
    /// target reached again by its own path is already fixed. A link out of the root is refused.
    #[cfg(unix)]
    #[test]
    fn a_symlink_keeps_being_one_and_its_target_is_written_once() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (real, link) = (dir.path().join("real.py"), dir.path().join("link.py"));
        std::fs::write(&real, "old\n").expect("write");
        std::os::unix::fs::symlink("real.py", &link).expect("symlink");
        write_fixed(dir.path(), &link, b"old\n", b"new\n").expect("written through the link");
        assert!(
            link.symlink_metadata()
                .expect("lstat")
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).expect("read"), b"new\n");
        let again = write_fixed(dir.path(), &real, b"old\n", b"new\n").expect("already fixed");
        assert!(!again, "the target is not written twice");
        let outside = tempfile::tempdir().expect("temporary directory");
        let away = outside.path().join("away.py");
        std::fs::write(&away, "old\n").expect("write");
        let out_link = dir.path().join("out.py");
        std::os::unix::fs::symlink(&away, &out_link).expect("symlink");
        let error = write_fixed(dir.path(), &out_link, b"old\n", b"new\n").expect_err("refused");
        assert!(error.contains("outside the repository"), "{error}");
        assert_eq!(std::fs::read(&away).expect("read"), b"old\n");
    }
}
