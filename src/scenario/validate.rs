//! Raw spanned values to the resolved scenario: defaults merged into stages,
//! ranges checked, `${NAME}` read from the environment, and every complaint
//! tied to the line it is about.

use std::collections::HashSet;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::error::{ScenarioError, Source};
use super::raw::{Int, RawBus, RawScenario, RawStage, RawThresholds, Text};
use super::{duration, BusKind, BusSpec, LeakPolicy, Overrides, Scenario, Secret};
use super::{StageSpec, Storage, Thresholds};
use crate::message::HEADER_LEN;

type Result<T> = std::result::Result<T, ScenarioError>;

/// Where a value sits, for messages like "stage 'high': messages must be...".
struct At<'a> {
    source: &'a Source<'a>,
    context: String,
}

impl At<'_> {
    fn fail(&self, span: Option<Range<usize>>, message: String) -> ScenarioError {
        self.source.error(span, format!("{}: {message}", self.context))
    }

    fn int(&self, key: &str, value: &Int, min: i64, max: i64) -> Result<Option<i64>> {
        let Some(v) = value else { return Ok(None) };
        let n = *v.get_ref();
        if n < min {
            return Err(self.fail(Some(v.span()), format!("{key} must be at least {min}, got {n}")));
        }
        if n > max {
            return Err(self.fail(Some(v.span()), format!("{key} must be at most {max}, got {n}")));
        }
        Ok(Some(n))
    }

    fn duration(&self, key: &str, value: &Text, min: Duration) -> Result<Option<Duration>> {
        let Some(v) = value else { return Ok(None) };
        let d = duration::parse(v.get_ref())
            .map_err(|e| self.fail(Some(v.span()), format!("{key}: {e}")))?;
        if d < min {
            let (min, got) = (duration::show(min), v.get_ref());
            return Err(
                self.fail(Some(v.span()), format!("{key} must be at least {min}, got \"{got}\""))
            );
        }
        Ok(Some(d))
    }

    fn choice<T>(&self, key: &str, value: &Text, options: &[(&str, T)]) -> Result<Option<T>>
    where
        T: Copy,
    {
        let Some(v) = value else { return Ok(None) };
        match options.iter().find(|(name, _)| *name == v.get_ref()) {
            Some((_, t)) => Ok(Some(*t)),
            None => {
                let names: Vec<_> = options.iter().map(|(n, _)| format!("\"{n}\"")).collect();
                let got = v.get_ref();
                let message = format!("{key} must be one of {}, got \"{got}\"", names.join(", "));
                Err(self.fail(Some(v.span()), message))
            }
        }
    }

    /// Expands `${NAME}` from the environment; a value that used one is a
    /// secret and is never written out.
    fn secret(&self, key: &str, v: &Spanned<String>) -> Result<Secret> {
        let text = v.get_ref();
        let mut out = String::new();
        let mut rest = text.as_str();
        let mut from_env = false;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let Some(end) = rest[start..].find('}') else {
                return Err(
                    self.fail(Some(v.span()), format!("{key}: unclosed `${{` in the value"))
                );
            };
            let name = &rest[start + 2..start + end];
            let value = std::env::var(name).map_err(|_| {
                let message = format!("{key}: environment variable {name} is not set");
                self.fail(Some(v.span()), message)
            })?;
            out.push_str(&value);
            from_env = true;
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        Ok(Secret { value: out, from_env })
    }
}

/// Stage keys after checking, before defaults are filled in.
#[derive(Default, Clone)]
struct Partial {
    messages: Option<i64>,
    topics: Option<i64>,
    partitions: Option<i64>,
    keys: Option<i64>,
    message_size: Option<i64>,
    producers: Option<i64>,
    rate: Option<i64>,
    warmup: Option<i64>,
    consume: Option<bool>,
    timeout: Option<Duration>,
    settle: Option<Duration>,
    thresholds: Option<PartialThresholds>,
}

#[derive(Default, Clone)]
struct PartialThresholds {
    latency: [Option<Duration>; 6],
    counts: [Option<i64>; 5],
    leaks: Option<LeakPolicy>,
}

const COUNT: i64 = 1_000_000_000_000;

fn partial(at: &At, raw: &RawStage) -> Result<Partial> {
    let ms = Duration::from_millis(1);
    Ok(Partial {
        messages: at.int("messages", &raw.messages, 1, COUNT)?,
        topics: at.int("topics", &raw.topics, 1, 1000)?,
        partitions: at.int("partitions", &raw.partitions, 1, 10_000)?,
        keys: at.int("keys", &raw.keys, 1, 1_000_000)?,
        message_size: at.int("message_size", &raw.message_size, HEADER_LEN as i64, 16 << 20)?,
        producers: at.int("producers", &raw.producers, 1, 1024)?,
        rate: at.int("rate", &raw.rate, 0, 100_000_000)?,
        warmup: at.int("warmup", &raw.warmup, 0, COUNT)?,
        consume: raw.consume.as_ref().map(|b| *b.get_ref()),
        timeout: at.duration("timeout", &raw.timeout, ms)?,
        settle: at.duration("settle", &raw.settle, Duration::ZERO)?,
        thresholds: match &raw.thresholds {
            Some(t) => Some(thresholds(at, t.get_ref())?),
            None => None,
        },
    })
}

fn thresholds(at: &At, raw: &RawThresholds) -> Result<PartialThresholds> {
    let d = |key: &str, v: &Text| at.duration(&format!("thresholds.{key}"), v, Duration::ZERO);
    let n = |key: &str, v: &Int| at.int(&format!("thresholds.{key}"), v, 0, i64::MAX);
    let policies =
        [("fail", LeakPolicy::Fail), ("warn", LeakPolicy::Warn), ("ignore", LeakPolicy::Ignore)];
    Ok(PartialThresholds {
        latency: [
            d("e2e_p50", &raw.e2e_p50)?,
            d("e2e_p99", &raw.e2e_p99)?,
            d("e2e_p999", &raw.e2e_p999)?,
            d("e2e_max", &raw.e2e_max)?,
            d("publish_p99", &raw.publish_p99)?,
            d("publish_max", &raw.publish_max)?,
        ],
        counts: [
            n("min_receive_rate", &raw.min_receive_rate)?,
            n("max_lost", &raw.max_lost)?,
            n("max_duplicated", &raw.max_duplicated)?,
            n("max_reordered", &raw.max_reordered)?,
            n("max_errors", &raw.max_errors)?,
        ],
        leaks: at.choice("thresholds.leaks", &raw.leaks, &policies)?,
    })
}

fn merge_thresholds(over: &PartialThresholds, under: &PartialThresholds) -> PartialThresholds {
    let mut out = under.clone();
    for (o, u) in out.latency.iter_mut().zip(over.latency) {
        *o = u.or(*o);
    }
    for (o, u) in out.counts.iter_mut().zip(over.counts) {
        *o = u.or(*o);
    }
    out.leaks = over.leaks.or(under.leaks);
    out
}

fn finish_thresholds(t: &PartialThresholds) -> Thresholds {
    let count = |i: usize| t.counts[i].map(|n| n as u64);
    Thresholds {
        e2e_p50: t.latency[0],
        e2e_p99: t.latency[1],
        e2e_p999: t.latency[2],
        e2e_max: t.latency[3],
        publish_p99: t.latency[4],
        publish_max: t.latency[5],
        min_receive_rate: count(0),
        max_lost: count(1),
        max_duplicated: count(2),
        max_reordered: count(3),
        max_errors: count(4),
        leaks: t.leaks.unwrap_or(LeakPolicy::Fail),
    }
}

pub fn resolve(source: &Source, raw: RawScenario) -> Result<Scenario> {
    let top = At { source, context: "scenario".into() };
    let name = match &raw.name {
        Some(v) => file_safe(&top, "name", v)?,
        None => file_stem(source),
    };
    let description = raw.description.as_ref().map(|d| d.get_ref().clone()).unwrap_or_default();

    let at = At { source, context: "[thresholds]".into() };
    let global = match &raw.thresholds {
        Some(t) => thresholds(&at, t.get_ref())?,
        None => PartialThresholds::default(),
    };
    let at = At { source, context: "[defaults]".into() };
    let defaults = match &raw.defaults {
        Some(d) if d.get_ref().name.is_some() => {
            let span = d.get_ref().name.as_ref().map(|n| n.span());
            return Err(at.fail(span, "name belongs in a [[stage]], not in [defaults]".into()));
        }
        Some(d) => partial(&at, d.get_ref())?,
        None => Partial::default(),
    };

    let stages = stages(source, &raw, &defaults, &global)?;
    let buses = buses(source, &raw)?;
    Ok(Scenario { name, description, file: source.file.to_path_buf(), buses, stages })
}

fn stages(
    source: &Source,
    raw: &RawScenario,
    defaults: &Partial,
    global: &PartialThresholds,
) -> Result<Vec<StageSpec>> {
    let list = match &raw.stage {
        Some(list) if !list.get_ref().is_empty() => list,
        Some(list) => {
            let message = "scenario: `stage` is empty: add at least one [[stage]]".to_string();
            return Err(source.error(Some(list.span()), message));
        }
        None => {
            let message = "scenario: no [[stage]]: a scenario needs at least one".to_string();
            return Err(source.error(None, message));
        }
    };
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (index, entry) in list.get_ref().iter().enumerate() {
        let raw_stage = entry.get_ref();
        let fallback = format!("stage-{}", index + 1);
        let at = At { source, context: format!("stage #{}", index + 1) };
        let name = match &raw_stage.name {
            Some(v) => file_safe(&at, "name", v)?,
            None => fallback,
        };
        let at = At { source, context: format!("stage '{name}'") };
        if !seen.insert(name.clone()) {
            let span = raw_stage.name.as_ref().map(|n| n.span());
            return Err(at.fail(span, format!("name \"{name}\" is used by an earlier stage")));
        }
        let own = partial(&at, raw_stage)?;
        out.push(finish(&at, entry.span(), name, &own, defaults, global)?);
    }
    Ok(out)
}

fn finish(
    at: &At,
    span: Range<usize>,
    name: String,
    own: &Partial,
    defaults: &Partial,
    global: &PartialThresholds,
) -> Result<StageSpec> {
    let Some(messages) = own.messages.or(defaults.messages) else {
        return Err(at.fail(Some(span), "messages is required (at least 1)".into()));
    };
    let pick = |a: Option<i64>, b: Option<i64>, default: i64| a.or(b).unwrap_or(default);
    let warmup = pick(own.warmup, defaults.warmup, 0);
    if warmup >= messages {
        let message = format!("warmup ({warmup}) must be less than messages ({messages})");
        return Err(at.fail(Some(span), message));
    }
    let topics = pick(own.topics, defaults.topics, 1);
    let keys = pick(own.keys, defaults.keys, 100);
    if topics * keys > 4_000_000 {
        let message = format!("topics × keys must be at most 4000000, got {}", topics * keys);
        return Err(at.fail(Some(span), message));
    }
    let base = defaults.thresholds.as_ref().map(|d| merge_thresholds(d, global));
    let base = base.unwrap_or_else(|| global.clone());
    let thresholds = match &own.thresholds {
        Some(t) => merge_thresholds(t, &base),
        None => base,
    };
    let consume = own.consume.or(defaults.consume).unwrap_or(true);
    let thresholds = finish_thresholds(&thresholds);
    if let (false, Some(key)) = (consume, thresholds.needs_consumers()) {
        let message = format!(
            "thresholds.{key} needs a consumer, but consume = false: \
             a stage that only publishes measures no delivery"
        );
        return Err(at.fail(Some(span), message));
    }
    Ok(StageSpec {
        name,
        messages: messages as u64,
        topics: topics as u32,
        partitions: pick(own.partitions, defaults.partitions, 3) as u32,
        keys: keys as u32,
        message_size: pick(own.message_size, defaults.message_size, 256) as usize,
        producers: pick(own.producers, defaults.producers, 2) as u32,
        rate: pick(own.rate, defaults.rate, 0) as u64,
        warmup: warmup as u64,
        consume,
        timeout: own.timeout.or(defaults.timeout).unwrap_or(Duration::from_secs(120)),
        settle: own.settle.or(defaults.settle).unwrap_or(Duration::from_secs(10)),
        thresholds,
    })
}

fn buses(source: &Source, raw: &RawScenario) -> Result<Vec<BusSpec>> {
    let base = raw.bus.clone().unwrap_or_default();
    let at = At { source, context: "[bus]".into() };
    let Some(list) = &raw.compare else {
        return Ok(vec![bus(&at, &base)?]);
    };
    if list.get_ref().is_empty() {
        let message = "scenario: `compare` is empty: list the buses to compare".to_string();
        return Err(source.error(Some(list.span()), message));
    }
    let mut out = Vec::new();
    for (index, entry) in list.get_ref().iter().enumerate() {
        let at = At { source, context: format!("[[compare]] #{}", index + 1) };
        out.push(bus(&at, &over(entry.get_ref(), &base))?);
    }
    Ok(out)
}

fn over(top: &RawBus, base: &RawBus) -> RawBus {
    RawBus {
        kind: top.kind.clone().or(base.kind.clone()),
        brokers: top.brokers.clone().or(base.brokers.clone()),
        url: top.url.clone().or(base.url.clone()),
        jetstream: top.jetstream.clone().or(base.jetstream.clone()),
        storage: top.storage.clone().or(base.storage.clone()),
        workers: top.workers.clone().or(base.workers.clone()),
        queue: top.queue.clone().or(base.queue.clone()),
        connect_timeout: top.connect_timeout.clone().or(base.connect_timeout.clone()),
        keep_topics: top.keep_topics.clone().or(base.keep_topics.clone()),
        config: top.config.clone().or(base.config.clone()),
    }
}

fn bus(at: &At, raw: &RawBus) -> Result<BusSpec> {
    let kinds = [("memory", BusKind::Memory), ("kafka", BusKind::Kafka), ("nats", BusKind::Nats)];
    let storages = [("memory", Storage::Memory), ("file", Storage::File)];
    let secret = |key: &str, v: &Text, default: &str| match v {
        Some(v) => at.secret(key, v),
        None => Ok(Secret::plain(default)),
    };
    let flag = |v: &Option<Spanned<bool>>| v.as_ref().map(|b| *b.get_ref()).unwrap_or(false);
    Ok(BusSpec {
        kind: at.choice("kind", &raw.kind, &kinds)?.unwrap_or(BusKind::Memory),
        brokers: secret("brokers", &raw.brokers, "mock")?,
        url: secret("url", &raw.url, "nats://127.0.0.1:4222")?,
        jetstream: flag(&raw.jetstream),
        storage: at.choice("storage", &raw.storage, &storages)?.unwrap_or(Storage::Memory),
        workers: at.int("workers", &raw.workers, 1, 65_536)?.unwrap_or(256) as usize,
        queue: at.int("queue", &raw.queue, 1, 1 << 20)?.unwrap_or(16) as usize,
        connect_timeout: at
            .duration("connect_timeout", &raw.connect_timeout, Duration::from_millis(1))?
            .unwrap_or(Duration::from_secs(10)),
        keep_topics: flag(&raw.keep_topics),
        config: match &raw.config {
            Some(table) => config(at, table)?,
            None => Vec::new(),
        },
    })
}

fn config(at: &At, table: &Spanned<toml::Table>) -> Result<Vec<(String, Secret)>> {
    let mut out = Vec::new();
    for (key, value) in table.get_ref() {
        let text = match value {
            toml::Value::String(s) => s.clone(),
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Float(f) => f.to_string(),
            other => {
                let message = format!(
                    "config.\"{key}\" must be a string, number or boolean, got {}",
                    other.type_str()
                );
                return Err(at.fail(Some(table.span()), message));
            }
        };
        let spanned = Spanned::new(table.span(), text);
        out.push((key.clone(), at.secret(&format!("config.\"{key}\""), &spanned)?));
    }
    Ok(out)
}

fn file_safe(at: &At, key: &str, v: &Spanned<String>) -> Result<String> {
    let text = v.get_ref();
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if text.is_empty() || text.len() > 64 || !text.chars().all(ok) || text.starts_with('.') {
        let message = format!(
            "{key} must be 1 to 64 letters, digits, '-', '_' or '.', got \"{}\"",
            text.escape_debug()
        );
        return Err(at.fail(Some(v.span()), message));
    }
    Ok(text.clone())
}

fn file_stem(source: &Source) -> String {
    let stem = source.file.file_stem().map(|s| s.to_string_lossy().to_string());
    let stem = stem.unwrap_or_else(|| "scenario".into());
    let safe = |c: char| {
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            c
        } else {
            '_'
        }
    };
    stem.chars().map(safe).collect()
}

/// Command-line overrides, checked the same way as the file.
pub fn apply(source: &Source, scenario: &mut Scenario, o: &Overrides) -> Result<()> {
    if let Some(kind) = o.bus {
        let chosen = scenario.buses.iter().find(|b| b.kind == kind).cloned();
        let mut bus = chosen.unwrap_or_else(|| scenario.buses[0].clone());
        bus.kind = kind;
        scenario.buses = vec![bus];
    }
    for bus in &mut scenario.buses {
        if let (Some(brokers), BusKind::Kafka) = (&o.brokers, bus.kind) {
            bus.brokers = Secret::plain(brokers.clone());
        }
        if let (Some(url), BusKind::Nats) = (&o.url, bus.kind) {
            bus.url = Secret::plain(url.clone());
        }
    }
    if o.stages.is_empty() {
        return Ok(());
    }
    for wanted in &o.stages {
        if !scenario.stages.iter().any(|s| &s.name == wanted) {
            let names: Vec<_> = scenario.stages.iter().map(|s| s.name.as_str()).collect();
            let message =
                format!("--stage {wanted}: no such stage (the stages are: {})", names.join(", "));
            return Err(source.error(None, message));
        }
    }
    scenario.stages.retain(|s| o.stages.contains(&s.name));
    Ok(())
}
