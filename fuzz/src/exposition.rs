//! An independent reader of the text formats (Prometheus text 0.0.4 and 1.0.0,
//! OpenMetrics 1.0), written from their specifications, and strict OpenMetrics checks:
//! fast enough to run on every fuzz input, where `prometheus_client`'s strict parser
//! (which `tests/corpus.rs` runs on the seed corpus's expositions) is not.
//!
//! The reader returns metadata and samples with names and labels as written (a quoted
//! name unquoted, escapes undone), values as `f64`.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{Sample, le};

/// One family's metadata lines.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Meta {
    /// `# TYPE`'s type.
    pub kind: Option<String>,
    /// `# HELP`'s text, unescaped.
    pub help: Option<String>,
    /// `# UNIT`'s unit.
    pub unit: Option<String>,
}

/// A parsed exposition.
#[derive(Clone, Debug, Default)]
pub struct Exposition {
    /// Families by name, in order of their first metadata line.
    pub families: Vec<(String, Meta)>,
    /// Samples, in order, each with the family whose metadata came last before it.
    pub samples: Vec<(String, Sample, Option<Exemplar>)>,
}

/// An exemplar after a sample (OpenMetrics).
#[derive(Clone, Debug, PartialEq)]
pub struct Exemplar {
    /// Its labels.
    pub labels: Vec<(String, String)>,
    /// Its value.
    pub value: f64,
}

/// The text format being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// Prometheus text 0.0.4 (and 1.0.0: the same with quoted names).
    Text,
    /// OpenMetrics 1.0.
    OpenMetrics,
}

/// Label pairs in the order written.
type Labels = Vec<(String, String)>;

/// What a `{…}` holds: a quoted metric name, if any, and the labels.
type Braces = (Option<String>, Labels);

/// A histogram series' buckets so far, for the cumulative and `+Inf` checks.
#[derive(Clone, Copy)]
struct Buckets {
    /// The last bound seen.
    bound: f64,
    /// The last cumulative count seen.
    cumulative: f64,
    /// The `+Inf` bucket's count.
    infinity: Option<f64>,
    /// `_count`.
    count: Option<f64>,
}

/// A cursor over one line.
struct Line<'a> {
    rest: &'a str,
}

impl<'a> Line<'a> {
    fn eat(&mut self, prefix: &str) -> bool {
        if let Some(rest) = self.rest.strip_prefix(prefix) {
            self.rest = rest;
            true
        } else {
            false
        }
    }

    /// A name: `"…"` quoted (escapes `\\`, `\"`, `\n`) or a run of legacy characters.
    fn name(&mut self) -> Result<String, String> {
        if self.rest.starts_with('"') {
            return self.quoted();
        }
        let end = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(self.rest.len());
        if end == 0 {
            return Err(format!("expected a name at {:?}", self.rest));
        }
        let (name, rest) = self.rest.split_at(end);
        self.rest = rest;
        Ok(name.to_owned())
    }

    /// A `"…"` string with `\\`, `\"` and `\n` escapes.
    fn quoted(&mut self) -> Result<String, String> {
        if !self.eat("\"") {
            return Err(format!("expected `\"` at {:?}", self.rest));
        }
        let mut out = String::new();
        let mut chars = self.rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.rest = &self.rest[i + 1..];
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, '\\')) => out.push('\\'),
                    Some((_, '"')) => out.push('"'),
                    Some((_, 'n')) => out.push('\n'),
                    other => return Err(format!("bad escape \\{other:?}")),
                },
                '\n' => return Err("a raw line feed in a quoted string".to_owned()),
                c => out.push(c),
            }
        }
        Err("an unterminated quoted string".to_owned())
    }

    /// `{…}`: an optional quoted metric name first (text 1.0.0, OpenMetrics with
    /// UTF-8 names), then `name="value"` pairs separated by commas.
    fn labels(&mut self) -> Result<Braces, String> {
        let mut metric = None;
        let mut labels = Vec::new();
        if !self.eat("{") {
            return Ok((None, labels));
        }
        if self.eat("}") {
            return Ok((None, labels));
        }
        loop {
            let name = self.name()?;
            if self.eat("=") {
                labels.push((name, self.quoted()?));
            } else if metric.is_none() && labels.is_empty() {
                metric = Some(name);
            } else {
                return Err(format!("a label without a value at {:?}", self.rest));
            }
            if self.eat("}") {
                return Ok((metric, labels));
            }
            if !self.eat(",") {
                return Err(format!("expected `,` or `}}` at {:?}", self.rest));
            }
        }
    }

    /// A token up to the next space or the end.
    fn token(&mut self) -> &'a str {
        let end = self.rest.find(' ').unwrap_or(self.rest.len());
        let (token, rest) = self.rest.split_at(end);
        self.rest = rest;
        token
    }
}

/// A number as the formats write one: a decimal or exponent float, `+Inf`, `-Inf`,
/// `NaN`. With `strict`, OpenMetrics' grammar (`realnumber`: sign, digits, at most one
/// point, an optional exponent; no `inf`/`nan` spellings other than its own).
fn number(token: &str, strict: bool) -> Result<f64, String> {
    match token {
        "+Inf" => return Ok(f64::INFINITY),
        "-Inf" => return Ok(f64::NEG_INFINITY),
        "NaN" => return Ok(f64::NAN),
        _ => {}
    }
    let body = token.strip_prefix(['+', '-']).unwrap_or(token);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let digits = mantissa.replacen('.', "", 1);
    let ok_mantissa = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    let ok_exponent = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    if strict && !(ok_mantissa && ok_exponent) {
        return Err(format!("{token:?} is not an OpenMetrics number"));
    }
    token
        .parse::<f64>()
        .map_err(|error| format!("{token:?} is not a number: {error}"))
}

/// Undoes `# HELP`'s escapes: `\\` and `\n`, and in OpenMetrics `\"`.
fn help(text: &str, syntax: Syntax) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('"') if syntax == Syntax::OpenMetrics => out.push('"'),
            // Text 0.0.4 leaves other backslashes as they are.
            Some(other) if syntax == Syntax::Text => {
                out.push('\\');
                out.push(other);
            }
            other => return Err(format!("bad escape in HELP: \\{other:?}")),
        }
    }
    Ok(out)
}

/// Reads `text` in `syntax`. OpenMetrics must end with `# EOF`.
///
/// # Errors
///
/// The first line that does not follow the format, with why.
pub fn parse(text: &str, syntax: Syntax) -> Result<Exposition, String> {
    let strict = syntax == Syntax::OpenMetrics;
    let mut out = Exposition::default();
    let mut current: Option<String> = None;
    let Some(body) = text.strip_suffix('\n').or(text.is_empty().then_some("")) else {
        return Err("the exposition does not end with a line feed".to_owned());
    };
    let mut eof = false;
    for raw in body.split('\n').filter(|_| !body.is_empty()) {
        if eof {
            return Err(format!("a line after # EOF: {raw:?}"));
        }
        let mut line = Line { rest: raw };
        if line.eat("#") {
            if strict && line.rest == " EOF" {
                eof = true;
                continue;
            }
            let keyword = if line.eat(" HELP ") {
                "HELP"
            } else if line.eat(" TYPE ") {
                "TYPE"
            } else if line.eat(" UNIT ") {
                "UNIT"
            } else if strict {
                return Err(format!("an unknown comment: {raw:?}"));
            } else {
                continue;
            };
            let name = line.name()?;
            let value = if line.rest.is_empty() && keyword == "HELP" {
                ""
            } else if line.eat(" ") {
                line.rest
            } else {
                return Err(format!("no space after the name: {raw:?}"));
            };
            let position = match out.families.iter().position(|(family, _)| *family == name) {
                Some(position) if current.as_deref() == Some(name.as_str()) => position,
                Some(_) => return Err(format!("family {name:?} is described twice: {raw:?}")),
                None => {
                    out.families.push((name.clone(), Meta::default()));
                    out.families.len() - 1
                }
            };
            if strict
                && out
                    .samples
                    .last()
                    .is_some_and(|(family, _, _)| *family == name)
            {
                return Err(format!("metadata after {name:?}'s samples: {raw:?}"));
            }
            current = Some(name);
            let meta = &mut out.families[position].1;
            let slot = match keyword {
                "HELP" => &mut meta.help,
                "TYPE" => &mut meta.kind,
                _ => &mut meta.unit,
            };
            if slot.is_some() {
                return Err(format!("a second {keyword}: {raw:?}"));
            }
            *slot = Some(if keyword == "HELP" {
                help(value, syntax)?
            } else {
                value.to_owned()
            });
            continue;
        }
        let bare = if line.rest.starts_with('{') {
            None
        } else {
            Some(line.name()?)
        };
        let (quoted, labels) = line.labels()?;
        let name = match (bare, quoted) {
            (Some(name), None) | (None, Some(name)) => name,
            _ => return Err(format!("a sample without exactly one name: {raw:?}")),
        };
        if !line.eat(" ") {
            return Err(format!("no space before the value: {raw:?}"));
        }
        let value = number(line.token(), strict)?;
        let mut exemplar = None;
        if line.eat(" ") {
            if line.eat("# ") {
                let (none, labels) = line.labels()?;
                if none.is_some() || !line.eat(" ") {
                    return Err(format!("a malformed exemplar: {raw:?}"));
                }
                let value = number(line.token(), strict)?;
                if line.eat(" ") {
                    number(line.token(), strict)?;
                }
                exemplar = Some(Exemplar { labels, value });
            } else {
                number(line.token(), strict)?;
                if line.eat(" # ") {
                    let (_, labels) = line.labels()?;
                    line.eat(" ");
                    let value = number(line.token(), strict)?;
                    exemplar = Some(Exemplar { labels, value });
                }
            }
        }
        if !line.rest.is_empty() {
            return Err(format!("trailing text {:?} in {raw:?}", line.rest));
        }
        // A histogram's `le` is a float however it is spelt; another metric's is a
        // label like any other.
        let histogram = current.as_ref().is_some_and(|family| {
            out.families
                .iter()
                .any(|(name, meta)| name == family && meta.kind.as_deref() == Some("histogram"))
        });
        let mut map = BTreeMap::new();
        for (label, value) in labels {
            let value = if label == "le" && histogram {
                le(number(&value, strict)?)
            } else {
                value
            };
            if map.insert(label.clone(), value).is_some() {
                return Err(format!("label {label:?} twice: {raw:?}"));
            }
        }
        let family = current.clone().unwrap_or_default();
        out.samples.push((
            family,
            Sample {
                name,
                labels: map,
                value,
            },
            exemplar,
        ));
    }
    if strict && !eof {
        return Err("OpenMetrics without # EOF".to_owned());
    }
    Ok(out)
}

/// OpenMetrics 1.0's rules for what the reader read (its sections "Metric types" and
/// "Exemplars"): every sample belongs to its family by name and type, families are not
/// interleaved, no label name starts with the reserved `__`, counters and histograms
/// are cumulative and neither negative nor NaN,
/// buckets are ordered and end at `+Inf` equal to `_count`, no series repeats, and
/// exemplars sit only on counters' `_total` and buckets, with at most 128 characters of
/// labels.
///
/// # Errors
///
/// The first rule broken, with the sample.
pub fn check_openmetrics(exposition: &Exposition) -> Result<(), String> {
    let mut seen_series = BTreeSet::new();
    let mut finished: BTreeSet<&str> = BTreeSet::new();
    let mut previous: Option<&str> = None;
    // Per histogram series: family and labels without `le`.
    let mut buckets: BTreeMap<(String, Labels), Buckets> = BTreeMap::new();
    for (family, sample, exemplar) in &exposition.samples {
        let meta = exposition
            .families
            .iter()
            .find(|(name, _)| name == family)
            .map(|(_, meta)| meta)
            .ok_or_else(|| format!("{sample:?} has no # TYPE before it"))?;
        let kind = meta.kind.as_deref().unwrap_or("unknown");
        if previous != Some(family.as_str()) {
            if !finished.insert(family) {
                return Err(format!("family {family:?} is interleaved with another"));
            }
            previous = Some(family);
        }
        let suffix = sample.name.strip_prefix(family.as_str()).ok_or_else(|| {
            format!(
                "{:?} does not start with its family {family:?}",
                sample.name
            )
        })?;
        let allowed: &[&str] = match kind {
            "counter" => &["_total", "_created"],
            "histogram" => &["_bucket", "_count", "_sum", "_created"],
            "gauge" | "unknown" => &[""],
            other => return Err(format!("a type this check does not know: {other}")),
        };
        if !allowed.contains(&suffix) {
            return Err(format!("{:?} is no sample of a {kind}", sample.name));
        }
        if let Some(reserved) = sample.labels.keys().find(|name| name.starts_with("__")) {
            // "Label names beginning with underscores are RESERVED."
            return Err(format!(
                "{sample:?} has the reserved label name {reserved:?}"
            ));
        }
        if !seen_series.insert((sample.name.clone(), sample.labels.clone())) {
            return Err(format!("{sample:?} repeats a series"));
        }
        let counter_like = matches!(suffix, "_total" | "_count" | "_sum" | "_bucket");
        if counter_like && (sample.value.is_nan() || sample.value < 0.0) {
            return Err(format!("counter-like {sample:?} is negative or NaN"));
        }
        if matches!(suffix, "_count" | "_bucket") && sample.value.fract() != 0.0 {
            return Err(format!("{sample:?} counts, so must be an integer"));
        }
        if kind == "histogram" && suffix != "_created" {
            let mut group: Vec<(String, String)> = sample
                .labels
                .iter()
                .filter(|(name, _)| *name != "le")
                .map(|(name, value)| (name.clone(), value.clone()))
                .collect();
            group.sort();
            let state = buckets.entry((family.clone(), group)).or_insert(Buckets {
                bound: f64::NEG_INFINITY,
                cumulative: 0.0,
                infinity: None,
                count: None,
            });
            match suffix {
                "_bucket" => {
                    let bound: f64 = sample
                        .labels
                        .get("le")
                        .ok_or_else(|| format!("{sample:?} has no le"))?
                        .parse()
                        .map_err(|_| format!("{sample:?}'s le is not a float"))?;
                    if bound <= state.bound || sample.value < state.cumulative {
                        return Err(format!("{sample:?} is out of order"));
                    }
                    state.bound = bound;
                    state.cumulative = sample.value;
                    if bound == f64::INFINITY {
                        state.infinity = Some(sample.value);
                    }
                }
                "_count" => state.count = Some(sample.value),
                _ => {}
            }
        }
        if let Some(exemplar) = exemplar {
            if !matches!(
                (kind, suffix),
                ("counter", "_total") | ("histogram", "_bucket")
            ) {
                return Err(format!("an exemplar on {:?}", sample.name));
            }
            let runes: usize = exemplar
                .labels
                .iter()
                .map(|(name, value)| name.chars().count() + value.chars().count())
                .sum();
            if runes > 128 {
                return Err(format!(
                    "an exemplar of {runes} characters on {:?}",
                    sample.name
                ));
            }
        }
    }
    for ((family, group), state) in &buckets {
        let (infinity, count) = (state.infinity, state.count);
        match (infinity, count) {
            (Some(infinity), Some(count)) if infinity == count => {}
            _ => {
                return Err(format!(
                    "histogram {family:?} {group:?}: +Inf bucket {infinity:?}, _count {count:?}"
                ));
            }
        }
    }
    Ok(())
}
