#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic

//! Every real report in `../shared/data/weather/cli_samples/`, with the values a person reads
//! in it, and texts that must not give a number.

use boz_settle::climate::{ClimateReport, ParseError, ReportKind, parse};
use chrono::{NaiveDate, NaiveTime};

const SAMPLES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/weather/cli_samples"
);

fn sample(name: &str) -> String {
    std::fs::read_to_string(format!("{SAMPLES}/{name}")).unwrap()
}

fn one(name: &str) -> ClimateReport {
    let mut r = parse(&sample(name)).unwrap();
    assert_eq!(r.len(), 1, "{name}");
    r.remove(0)
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn at(h: u32, m: u32) -> Option<NaiveTime> {
    NaiveTime::from_hms_opt(h, m, 0)
}

/// (max, max time, min, min time)
fn values(r: &ClimateReport) -> (i32, Option<NaiveTime>, i32, Option<NaiveTime>) {
    let (max, min) = (r.maximum.as_ref().unwrap(), r.minimum.as_ref().unwrap());
    (max.value_f, max.time_lst, min.value_f, min.time_lst)
}

#[test]
fn central_park_final() {
    let r = one("pyiem_CLINYC.txt");
    assert_eq!(
        (r.station.as_str(), r.climate_date),
        ("CENTRAL PARK NY", day(2013, 1, 2))
    );
    assert_eq!(r.kind, ReportKind::Final);
    assert_eq!(
        values(&r),
        (33, at(15, 1), 22, at(7, 43)),
        "not the normal 39 or the record 64"
    );
    assert!(!r.correction);
    assert_eq!(r.awips_id.as_deref(), Some("CLINYC"));
    assert_eq!(r.wmo_heading.as_deref(), Some("CDUS41 KOKX 030616"));
    assert_eq!(r.issued.as_deref(), Some("116 AM EST THU JAN 3 2013"));
    assert!(r.raw.contains("SUNRISE AND SUNSET"), "the raw text is kept");
}

#[test]
fn record_flag() {
    let r = one("pyiem_CLIANN.txt");
    assert_eq!(
        (r.station.as_str(), r.climate_date, r.kind.clone()),
        ("ANNETTE WSO AP", day(2015, 3, 2), ReportKind::Final)
    );
    assert_eq!(values(&r), (53, at(13, 51), 33, at(23, 49)));
    assert!(r.maximum.as_ref().unwrap().record);
    assert!(!r.minimum.as_ref().unwrap().record);
}

#[test]
fn colon_times() {
    let r = one("pyiem_CLICVG_colon.txt");
    assert_eq!(
        (r.station.as_str(), r.climate_date),
        ("CINCINNATI OH", day(2021, 2, 4))
    );
    assert_eq!(values(&r), (39, at(23, 29), 22, at(0, 43)));
    let r = one("pyiem_CLIDCA.txt");
    assert_eq!(
        (r.station.as_str(), r.climate_date),
        ("WASHINGTON NATIONAL DC", day(2026, 6, 28))
    );
    assert_eq!(values(&r), (76, at(18, 27), 72, at(8, 46)));
}

#[test]
fn morning_partial_with_a_midnight_maximum() {
    let r = one("pyiem_CLIDRT.txt");
    assert_eq!(
        (r.station.as_str(), r.climate_date),
        ("DEL RIO", day(2014, 12, 29))
    );
    assert_eq!(
        r.kind,
        ReportKind::MorningPartial {
            valid_as_of: "VALID AS OF 735 AM LOCAL TIME".into()
        }
    );
    assert_eq!(values(&r), (42, at(0, 32), 37, at(6, 48)));
}

#[test]
fn afternoon_preliminary() {
    let r = one("pyiem_CLIFFC.txt");
    assert_eq!(
        (r.station.as_str(), r.climate_date),
        ("PEACHTREE CITY", day(2014, 10, 3))
    );
    assert_eq!(
        r.kind,
        ReportKind::Preliminary {
            valid_as_of: "VALID TODAY AS OF 0400 PM LOCAL TIME".into()
        }
    );
    assert_eq!(
        values(&r),
        (79, at(14, 26), 67, at(1, 6)),
        "MM records do not disturb the row"
    );
}

#[test]
fn correction() {
    let r = one("pyiem_CLIEWN.txt");
    assert_eq!(
        (r.station.as_str(), r.climate_date),
        ("NEW BERN NC", day(2014, 9, 28)),
        "the date of the summary, not of the issue (OCT 18)"
    );
    assert!(r.correction);
    assert_eq!(r.kind, ReportKind::Final);
    assert_eq!(values(&r), (83, at(14, 13), 62, at(6, 17)));
}

#[test]
fn several_stations_and_a_wrapped_record_year() {
    let r = parse(&sample("pyiem_CLIHOU.txt")).unwrap();
    assert_eq!(r.len(), 2);
    assert_eq!(
        (r[0].station.as_str(), r[0].climate_date),
        ("HOUSTON INTERCONTINENTAL", day(2014, 11, 30))
    );
    assert_eq!(values(&r[0]), (80, at(14, 33), 61, at(23, 58)));
    assert_eq!(r[1].station, "HOUSTON/HOBBY AIRPORT");
    assert_eq!(values(&r[1]), (79, at(14, 0), 62, at(7, 30)));
}

fn with_max(row: &str) -> String {
    sample("pyiem_CLINYC.txt").replace(
        "  MAXIMUM         33    301 PM  68    1876  39     -6       50",
        row,
    )
}

#[test]
fn missing_and_estimated_values() {
    let r = &parse(&with_max(
        "  MAXIMUM         MM                                           ",
    ))
    .unwrap()[0];
    assert_eq!(r.maximum, None, "MM is missing, never a number");
    let r = &parse(&with_max(
        "  MAXIMUM         34 (E)  301 PM  68    1876  39     -5       50",
    ))
    .unwrap()[0];
    let m = r.maximum.as_ref().unwrap();
    assert_eq!((m.value_f, m.estimated, m.time_lst), (34, true, at(15, 1)));
    let r = &parse(&with_max(
        "  MAXIMUM         -4     301 PM  68    1876  39     -5       50",
    ))
    .unwrap()[0];
    assert_eq!(r.maximum.as_ref().unwrap().value_f, -4);
}

#[test]
fn garbage_truncated_and_empty_texts_are_errors() {
    assert_eq!(parse(""), Err(ParseError::Empty));
    assert_eq!(parse("   \n\n"), Err(ParseError::Empty));
    assert_eq!(
        parse("<html>Service Unavailable</html>"),
        Err(ParseError::NoSummary)
    );
    let nyc = sample("pyiem_CLINYC.txt");
    let cut = &nyc[..nyc.find("  MAXIMUM").unwrap()];
    let e = parse(cut).unwrap_err().to_string();
    assert!(
        e.contains("no MAXIMUM row") && e.contains("CENTRAL PARK NY"),
        "{e}"
    );
    let cut = &nyc[..nyc.find("TEMPERATURE (F)").unwrap()];
    assert!(
        parse(cut)
            .unwrap_err()
            .to_string()
            .contains("no TEMPERATURE block")
    );
    let e = parse(&with_max("  MAXIMUM         M3     301 PM"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("MAXIMUM: \"M3\" is not a temperature"), "{e}");
    let e = parse(&with_max("  MAXIMUM         333    301 PM"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a plausible temperature"), "{e}");
    let e = parse(&nyc.replace("JANUARY 2 2013", "JANUARY 32 2013"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("is not a date"), "{e}");
    let e = parse(&nyc.replace("JANUARY 2 2013", "SOMEDAY"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cannot read the date"), "{e}");
}
