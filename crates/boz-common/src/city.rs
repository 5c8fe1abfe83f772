//! Cities as data, and the climate day.
//!
//! A city is a settlement station plus the facts every module needs about it: coordinates (for
//! the forecast grid), the standard-time UTC offset (for the climate day), the NWS office, the
//! climate report code and the Kalshi series. The four seed cities are built in
//! (`../shared/DOMAIN.md` §2); more come from a TOML file named by `CITIES_FILE`, without code
//! changes.
//!
//! The climate day runs midnight to midnight local *standard* time all year (1 AM to 1 AM clock
//! time under daylight time), so it is a fixed offset, never a time zone.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ValidationError;

/// A city code such as `NYC`: 2 to 8 upper-case ASCII letters, known to the registry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CityCode(String);

impl CityCode {
    /// Checks the form only (not whether the city is configured).
    fn well_formed(code: &str) -> Result<CityCode, String> {
        let ok = (2..=8).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase());
        if ok {
            Ok(CityCode(code.to_string()))
        } else {
            Err(format!(
                "{code:?} is not a city code (2-8 upper-case letters)"
            ))
        }
    }

    /// Parses a code and checks that the city is configured.
    pub fn parse(code: &str) -> Result<CityCode, ValidationError> {
        let c = CityCode::well_formed(code).map_err(|r| ValidationError::new("city", r))?;
        if registry().get(&c).is_none() {
            return Err(ValidationError::new(
                "city",
                format!(
                    "unknown city {code:?}; known cities: {}",
                    registry().codes().join(", ")
                ),
            ));
        }
        Ok(c)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The configured facts of this city.
    pub fn city(&self) -> Option<Arc<City>> {
        registry().get(self)
    }
}

impl fmt::Display for CityCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for CityCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for CityCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CityCode::parse(&s).map_err(|e| serde::de::Error::custom(e.reason))
    }
}

/// The facts about one city's settlement station.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct City {
    pub code: String,
    pub name: String,
    /// ICAO station id of the settlement station, e.g. `KNYC`.
    pub station_id: String,
    pub latitude: f64,
    pub longitude: f64,
    /// Hours from UTC of local standard time (New York: -5). Never a daylight offset.
    pub standard_utc_offset_hours: i32,
    /// IANA time zone, for wall-clock schedules and display only (not for the climate day).
    pub time_zone: String,
    /// NWS forecast office, e.g. `OKX`.
    pub nws_office: String,
    /// NWS climate report product code, e.g. `CLINYC`.
    pub climate_report: String,
    /// GHCN-Daily station id, for history.
    #[serde(default)]
    pub ghcn_id: Option<String>,
    /// Kalshi series ticker, e.g. `KXHIGHNY`.
    pub kalshi_series: String,
}

impl City {
    fn validate(&self) -> Result<(), ValidationError> {
        CityCode::well_formed(&self.code).map_err(|r| ValidationError::new("code", r))?;
        let field = |f: &str| format!("cities.{}.{f}", self.code);
        if !(-90.0..=90.0).contains(&self.latitude) {
            return Err(ValidationError::new(
                field("latitude"),
                "must be within [-90, 90]",
            ));
        }
        if !(-180.0..=180.0).contains(&self.longitude) {
            return Err(ValidationError::new(
                field("longitude"),
                "must be within [-180, 180]",
            ));
        }
        if !(-12..=14).contains(&self.standard_utc_offset_hours) {
            return Err(ValidationError::new(
                field("standard_utc_offset_hours"),
                "must be within [-12, 14]",
            ));
        }
        for (name, value) in [
            ("name", &self.name),
            ("station_id", &self.station_id),
            ("time_zone", &self.time_zone),
            ("nws_office", &self.nws_office),
            ("climate_report", &self.climate_report),
            ("kalshi_series", &self.kalshi_series),
        ] {
            if value.trim().is_empty() {
                return Err(ValidationError::new(field(name), "must not be empty"));
            }
        }
        Ok(())
    }

    pub fn code(&self) -> CityCode {
        CityCode(self.code.clone())
    }

    /// The standard-time offset that defines the climate day.
    pub fn standard_offset(&self) -> FixedOffset {
        // Validated to [-12, 14] hours, always a valid offset; UTC as a last resort.
        FixedOffset::east_opt(self.standard_utc_offset_hours * 3600).unwrap_or(Utc.fix())
    }

    /// The climate date an instant belongs to.
    pub fn climate_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.standard_offset()).date_naive()
    }

    /// The instant of a local standard clock time on a date (e.g. a decision at 20:00).
    pub fn at_standard_time(&self, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
        self.climate_day_window(date).0 + (time - NaiveTime::MIN)
    }

    /// The UTC window `[start, end)` of a climate date: local standard midnight to midnight.
    pub fn climate_day_window(&self, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let offset = self.standard_offset();
        let start_local = date.and_hms_opt(0, 0, 0).unwrap_or_default();
        let start = offset
            .from_local_datetime(&start_local)
            .single()
            .map(|d| d.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&start_local));
        (start, start + chrono::Duration::days(1))
    }
}

/// The four seed cities, with the station facts of `../shared/DOMAIN.md` §2.
pub fn builtin_cities() -> Vec<City> {
    let city = |code: &str,
                name: &str,
                station: &str,
                lat: f64,
                lon: f64,
                offset: i32,
                tz: &str,
                office: &str,
                cli: &str,
                ghcn: &str,
                series: &str| City {
        code: code.into(),
        name: name.into(),
        station_id: station.into(),
        latitude: lat,
        longitude: lon,
        standard_utc_offset_hours: offset,
        time_zone: tz.into(),
        nws_office: office.into(),
        climate_report: cli.into(),
        ghcn_id: Some(ghcn.into()),
        kalshi_series: series.into(),
    };
    vec![
        city(
            "NYC",
            "New York (Central Park)",
            "KNYC",
            40.779,
            -73.969,
            -5,
            "America/New_York",
            "OKX",
            "CLINYC",
            "USW00094728",
            "KXHIGHNY",
        ),
        city(
            "CHI",
            "Chicago (Midway)",
            "KMDW",
            41.786,
            -87.752,
            -6,
            "America/Chicago",
            "LOT",
            "CLIMDW",
            "USW00014819",
            "KXHIGHCHI",
        ),
        city(
            "MIA",
            "Miami (Miami International)",
            "KMIA",
            25.796,
            -80.287,
            -5,
            "America/New_York",
            "MFL",
            "CLIMIA",
            "USW00012839",
            "KXHIGHMIA",
        ),
        city(
            "AUS",
            "Austin (Austin-Bergstrom)",
            "KAUS",
            30.195,
            -97.670,
            -6,
            "America/Chicago",
            "EWX",
            "CLIAUS",
            "USW00013904",
            "KXHIGHAUS",
        ),
    ]
}

/// The configured cities: the built-in four plus any from the cities file.
#[derive(Debug, Clone)]
pub struct CityRegistry {
    cities: BTreeMap<String, Arc<City>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CitiesFile {
    #[serde(default)]
    city: Vec<City>,
}

impl CityRegistry {
    /// The built-in cities only.
    pub fn builtin() -> CityRegistry {
        let cities = builtin_cities()
            .into_iter()
            .map(|c| (c.code.clone(), Arc::new(c)))
            .collect();
        CityRegistry { cities }
    }

    /// Adds (or replaces) cities; each is validated first and nothing changes on an error.
    pub fn with_cities(&self, extra: Vec<City>) -> Result<CityRegistry, ValidationError> {
        let mut next = self.clone();
        for c in extra {
            c.validate()?;
            next.cities.insert(c.code.clone(), Arc::new(c));
        }
        Ok(next)
    }

    /// Reads `[[city]]` tables from a TOML file (fields as in [`City`]).
    pub fn load_file(&self, path: &Path) -> Result<CityRegistry, ValidationError> {
        let field = "CITIES_FILE";
        let text = std::fs::read_to_string(path).map_err(|e| {
            ValidationError::new(field, format!("cannot read {}: {e}", path.display()))
        })?;
        let file: CitiesFile = toml::from_str(&text).map_err(|e| {
            ValidationError::new(field, format!("{}: {}", path.display(), e.message()))
        })?;
        self.with_cities(file.city)
    }

    pub fn get(&self, code: &CityCode) -> Option<Arc<City>> {
        self.cities.get(code.as_str()).cloned()
    }

    pub fn codes(&self) -> Vec<String> {
        self.cities.keys().cloned().collect()
    }

    pub fn all(&self) -> Vec<Arc<City>> {
        self.cities.values().cloned().collect()
    }
}

static REGISTRY: RwLock<Option<Arc<CityRegistry>>> = RwLock::new(None);

/// The process-wide registry used when parsing city codes (built-in cities until
/// [`install_registry`] is called at start-up).
pub fn registry() -> Arc<CityRegistry> {
    if let Ok(guard) = REGISTRY.read()
        && let Some(r) = guard.as_ref()
    {
        return r.clone();
    }
    Arc::new(CityRegistry::builtin())
}

/// Makes `r` the process-wide registry (called once at start-up with the configured cities).
pub fn install_registry(r: CityRegistry) {
    if let Ok(mut guard) = REGISTRY.write() {
        *guard = Some(Arc::new(r));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nyc() -> Arc<City> {
        CityCode::parse("NYC").unwrap().city().unwrap()
    }
    fn chi() -> Arc<City> {
        CityCode::parse("CHI").unwrap().city().unwrap()
    }
    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn builtin_station_facts() {
        let c = nyc();
        assert_eq!(c.station_id, "KNYC");
        assert_eq!(c.climate_report, "CLINYC");
        assert_eq!(chi().station_id, "KMDW");
        let aus = CityCode::parse("AUS").unwrap().city().unwrap();
        assert_eq!(aus.station_id, "KAUS");
        assert_eq!(aus.standard_utc_offset_hours, -6);
    }

    #[test]
    fn unknown_and_malformed_codes_are_refused() {
        let e = CityCode::parse("LAX").unwrap_err();
        assert_eq!(e.field, "city");
        assert!(e.reason.contains("unknown city"), "{e}");
        assert!(CityCode::parse("nyc").is_err());
        assert!(serde_json::from_str::<CityCode>("\"BOS\"").is_err());
    }

    #[test]
    fn standard_clock_times_ignore_daylight_time() {
        let nyc = builtin_cities().into_iter().next().unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 7, 1).unwrap();
        let t = NaiveTime::from_hms_opt(20, 0, 0).unwrap();
        assert_eq!(
            nyc.at_standard_time(d, t).to_rfc3339(),
            "2026-07-02T01:00:00+00:00"
        );
    }

    #[test]
    fn climate_day_is_local_standard_time_in_summer() {
        // 2024-07-04 00:30 EDT is 2024-07-03 23:30 EST: still the 3rd's climate day.
        let c = nyc();
        assert_eq!(
            c.climate_date(utc("2024-07-04T04:30:00Z")),
            date("2024-07-03")
        );
        assert_eq!(
            c.climate_date(utc("2024-07-04T05:00:00Z")),
            date("2024-07-04")
        );
        let (start, end) = c.climate_day_window(date("2024-07-04"));
        assert_eq!(start, utc("2024-07-04T05:00:00Z"));
        assert_eq!(end, utc("2024-07-05T05:00:00Z"));
    }

    #[test]
    fn spring_forward_day_eastern_and_central() {
        // 2024-03-10: clocks jump 02:00 -> 03:00; the climate day is still 24 hours of standard time.
        let d = date("2024-03-10");
        let (s, e) = nyc().climate_day_window(d);
        assert_eq!(
            (s, e),
            (utc("2024-03-10T05:00:00Z"), utc("2024-03-11T05:00:00Z"))
        );
        // 00:30 EDT on the 11th (04:30Z) is 23:30 EST on the 10th.
        assert_eq!(nyc().climate_date(utc("2024-03-11T04:30:00Z")), d);
        let (s, e) = chi().climate_day_window(d);
        assert_eq!(
            (s, e),
            (utc("2024-03-10T06:00:00Z"), utc("2024-03-11T06:00:00Z"))
        );
        assert_eq!(chi().climate_date(utc("2024-03-11T05:59:59Z")), d);
        assert_eq!(
            chi().climate_date(utc("2024-03-11T06:00:00Z")),
            date("2024-03-11")
        );
    }

    #[test]
    fn fall_back_day_eastern_and_central() {
        // 2024-11-03: clocks fall back 02:00 -> 01:00. 00:30 EDT on the 3rd is 23:30 EST on the 2nd.
        let d = date("2024-11-03");
        assert_eq!(
            nyc().climate_date(utc("2024-11-03T04:30:00Z")),
            date("2024-11-02")
        );
        assert_eq!(nyc().climate_date(utc("2024-11-03T05:00:00Z")), d);
        let (s, e) = nyc().climate_day_window(d);
        assert_eq!(
            (s, e),
            (utc("2024-11-03T05:00:00Z"), utc("2024-11-04T05:00:00Z"))
        );
        let (s, e) = chi().climate_day_window(d);
        assert_eq!(
            (s, e),
            (utc("2024-11-03T06:00:00Z"), utc("2024-11-04T06:00:00Z"))
        );
        assert_eq!(
            chi().climate_date(utc("2024-11-03T05:30:00Z")),
            date("2024-11-02")
        );
    }

    #[test]
    fn cities_file_adds_a_city() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cities.toml");
        std::fs::write(
            &path,
            r#"
[[city]]
code = "DEN"
name = "Denver"
station_id = "KDEN"
latitude = 39.847
longitude = -104.656
standard_utc_offset_hours = -7
time_zone = "America/Denver"
nws_office = "BOU"
climate_report = "CLIDEN"
kalshi_series = "KXHIGHDEN"
"#,
        )
        .unwrap();
        let r = CityRegistry::builtin().load_file(&path).unwrap();
        assert_eq!(r.codes(), vec!["AUS", "CHI", "DEN", "MIA", "NYC"]);
        let den = r.get(&CityCode("DEN".into())).unwrap();
        assert_eq!(
            den.climate_day_window(date("2024-06-01")).0,
            utc("2024-06-01T07:00:00Z")
        );

        std::fs::write(&path, "[[city]]\ncode = \"DEN\"\n").unwrap();
        let e = CityRegistry::builtin().load_file(&path).unwrap_err();
        assert_eq!(e.field, "CITIES_FILE");
        assert!(e.reason.contains("missing field"), "{e}");
    }
}
