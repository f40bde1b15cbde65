//! The output contract's names (`vomsim::measure::names`) against what the
//! tally emits and what docs/DESIGN.md promises: the tally emits no name
//! outside the catalog, every catalogued name is emitted by some scenario,
//! and every one is written in the contract, so a rename cannot slip past
//! the tools that read these files.

mod common;

use std::collections::BTreeSet;

use common::repo;
use vomsim::measure::metrics::catalog;
use vomsim::measure::names::{group, metric};
use vomsim::model::design::Shape;

#[test]
fn the_tally_emits_exactly_the_catalogued_names() {
    let mut metrics = BTreeSet::new();
    let mut groups = BTreeSet::new();
    let shapes = [
        (false, false, false, 0, false),
        (true, false, true, 12, false),
        (true, true, false, 0, true),
    ]
    .map(
        |(randomized, after_consent, pool, pre_period, staff)| Shape {
            randomized,
            after_consent,
            pool,
            recurrent: pre_period > 0,
            pre_period,
            study_end: pre_period,
            staff,
            ..Shape::default()
        },
    );
    for shape in shapes {
        for key in catalog(14, shape) {
            assert!(
                metric::ALL.contains(&key.metric),
                "uncatalogued metric {}",
                key.metric
            );
            assert!(
                group::ALL.contains(&key.group)
                    || group::SUBGROUPS.contains(&key.group)
                    || group::subgroup_dispositions().contains(&key.group),
                "uncatalogued group {}",
                key.group
            );
            metrics.insert(key.metric);
            groups.insert(key.group);
        }
    }
    let unused: Vec<_> = metric::ALL
        .iter()
        .filter(|m| !metrics.contains(*m))
        .collect();
    assert!(
        unused.is_empty(),
        "catalogued but never emitted: {unused:?}"
    );
    let unused: Vec<_> = group::ALL
        .iter()
        .chain(group::SUBGROUPS.iter())
        .chain(group::subgroup_dispositions().iter())
        .filter(|g| !groups.contains(*g))
        .collect();
    assert!(
        unused.is_empty(),
        "catalogued but never emitted: {unused:?}"
    );
}

#[test]
fn every_name_is_in_the_contract() {
    let design = std::fs::read_to_string(repo("docs/DESIGN.md")).unwrap();
    let missing: Vec<_> = metric::ALL
        .iter()
        .chain(group::ALL.iter())
        .chain(group::SUBGROUPS.iter())
        .filter(|name| !design.contains(&format!("`{name}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/DESIGN.md does not name {missing:?}"
    );
    // A subgroup by disposition is named by the documented rule from two
    // documented names.
    assert!(design.contains("`SUBGROUP;DISPOSITION`"));
    for name in group::subgroup_dispositions() {
        let (subgroup, disposition) = name.split_once(group::BY_DISPOSITION).unwrap();
        assert!(group::SUBGROUPS.contains(&subgroup), "{name}");
        assert!(group::DISPOSITIONS.contains(&disposition), "{name}");
        assert!(design.contains(&format!("`{disposition}`")), "{name}");
    }
}
