// The what-if page: sends the changes (levers that differ from the
// baseline, and keys added by name) to /api/run and shows what comes back.
// The changes live in the URL (?set=KEY=VALUE...), so a link reproduces
// the page. Answers to older changes are ignored; a busy server (429) is
// asked again a moment later.
"use strict";
const config = JSON.parse(document.getElementById("config").textContent);
const client = Math.random().toString(36).slice(2, 12);
const $ = (id) => document.getElementById(id);
const panel = $("panel");
const extras = [];
let generation = 0;
let timer = null;

$("about").textContent = `${config.file}: ${config.reps} simulated program years (seed ${config.seed}). Each change reruns them with the same youths.`;

for (const lever of config.levers) {
  const label = document.createElement("label");
  label.className = "lever";
  label.textContent = lever.label + " ";
  const base = document.createElement("span");
  base.className = "base";
  base.textContent = `(baseline ${lever.baseline})`;
  label.appendChild(base);
  let input;
  if (lever.choices.length) {
    input = document.createElement("select");
    for (const c of lever.choices) input.add(new Option(c, c));
  } else {
    input = document.createElement("input");
    input.type = lever.number ? "number" : "text";
    if (lever.number) input.step = "any";
  }
  input.value = lever.baseline;
  input.dataset.key = lever.key;
  input.id = "lever-" + lever.key.replace(/\W/g, "-");
  input.addEventListener("input", schedule);
  input.addEventListener("change", schedule);
  label.appendChild(input);
  panel.appendChild(label);
  lever.input = input;
  lever.label_element = label;
}

function changed(lever) {
  const v = lever.input.value.trim();
  if (v === "") return false;
  if (lever.number) return Number(v) !== Number(lever.baseline);
  return v !== lever.baseline;
}

function currentSets() {
  const sets = [];
  for (const lever of config.levers) {
    const on = changed(lever);
    lever.label_element.classList.toggle("changed", on);
    if (on) sets.push(`${lever.key}=${lever.input.value.trim()}`);
  }
  for (const e of extras) sets.push(`${e.key}=${e.value}`);
  return sets;
}

function drawExtras() {
  const box = $("extras");
  box.replaceChildren();
  extras.forEach((e, i) => {
    const row = document.createElement("div");
    row.className = "extra";
    const code = document.createElement("code");
    code.textContent = `${e.key} = ${e.value}`;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.title = "remove";
    remove.onclick = () => { extras.splice(i, 1); drawExtras(); schedule(); };
    row.append(code, remove);
    box.appendChild(row);
  });
}

function addSet(key, value) {
  const lever = config.levers.find((l) => l.key === key);
  if (lever) lever.input.value = value;
  else extras.push({ key, value });
}

$("add").onclick = () => {
  const key = $("add-key").value.trim();
  const value = $("add-value").value.trim();
  if (!key) return;
  addSet(key, value);
  $("add-key").value = "";
  $("add-value").value = "";
  drawExtras();
  schedule();
};

$("reset").onclick = () => {
  for (const lever of config.levers) lever.input.value = lever.baseline;
  extras.length = 0;
  drawExtras();
  schedule();
};

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(run, 150);
}

function query(sets) {
  const q = new URLSearchParams();
  for (const s of sets) q.append("set", s);
  return q.toString();
}

function setStatus(state, text, sets) {
  const status = $("status");
  status.dataset.state = state;
  status.dataset.sets = sets.join("\n");
  status.textContent = text;
}

async function run() {
  const sets = currentSets();
  const q = query(sets);
  history.replaceState(null, "", q ? "?" + q : location.pathname);
  for (const [id, file] of [["dl-toml", "scenario.toml"], ["dl-summary", "summary.csv"],
    ["dl-diagnosis", "diagnosis.csv"], ["dl-compare", "compare.csv"]]) {
    $(id).href = `/download/${file}` + (q ? "?" + q : "");
  }
  const mine = ++generation;
  const started = performance.now();
  setStatus("running", sets.length ? `Running ${config.reps} program years with ${sets.length} change(s)…` : "Running the baseline…", sets);
  let response, body;
  try {
    response = await fetch(`/api/run?${q}${q ? "&" : ""}client=${client}`);
    body = await response.json();
  } catch (e) {
    if (mine === generation) setStatus("error", "The server does not answer: is vomsim serve still running?", sets);
    return;
  }
  if (mine !== generation) return; // a newer change is on its way
  if (response.status === 409) return;
  if (response.status === 429) { setTimeout(() => { if (mine === generation) run(); }, 400); return; }
  if (!response.ok) {
    $("error").hidden = false;
    $("error").textContent = body.error || `error ${response.status}`;
    setStatus("error", "Not run: see the message below. The numbers shown are from the last run.", sets);
    return;
  }
  $("error").hidden = true;
  $("differences").innerHTML = body.differences ||
    '<p class="note">No change yet: move a lever on the left. Each change is run on the baseline\'s simulated youths (the same seed and replications), so the differences below are the change\'s doing, not chance.</p>';
  $("summary").innerHTML = body.summary;
  $("key-numbers").innerHTML = body.key_numbers;
  $("charts").innerHTML = body.charts;
  const ms = Math.round(performance.now() - started);
  const what = sets.length ? `With ${sets.map((s) => s.replace("=", " = ")).join(", ")}` : "The baseline";
  setStatus("done", `${what}: simulated in ${body.seconds.toFixed(2)} s, shown ${ms} ms after the request.`, sets);
  $("status").dataset.ms = ms;
}

// A shared link: its changes set the levers, the rest become added keys.
for (const s of new URLSearchParams(location.search).getAll("set")) {
  const at = s.indexOf("=");
  if (at > 0) addSet(s.slice(0, at).trim(), s.slice(at + 1).trim());
}
drawExtras();
run();
