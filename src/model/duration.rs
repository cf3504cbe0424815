//! Durations as people write them in desk files: `10m`, `2h`, `24h`, `1h30m`, `3d`.
//! Stored as whole minutes because every target in the manual is a whole number of minutes.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dur {
    pub minutes: i64,
}

impl Dur {
    /// The longest duration accepted: 100 years.
    pub const MAX: Dur = Dur::minutes(100 * 366 * 24 * 60);
    pub const fn minutes(minutes: i64) -> Dur {
        Dur { minutes }
    }
    pub const fn hours(hours: i64) -> Dur {
        Dur {
            minutes: hours * 60,
        }
    }
    pub fn to_chrono(self) -> chrono::Duration {
        chrono::Duration::minutes(self.minutes)
    }
    pub fn seconds(self) -> i64 {
        self.minutes * 60
    }
}

impl FromStr for Dur {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(crate::tr!("yaml.empty_duration"));
        }
        let mut total: i64 = 0;
        let mut rest = s;
        while !rest.is_empty() {
            let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return Err(crate::tr!("yaml.bad_duration", value = s));
            }
            let n: i64 = rest[..digits]
                .parse()
                .map_err(|_| crate::tr!("yaml.too_large", value = s))?;
            rest = rest[digits..].trim_start();
            let unit_len = rest.chars().take_while(|c| c.is_ascii_alphabetic()).count();
            let unit = &rest[..unit_len];
            let factor = match unit {
                "m" | "min" | "mins" | "minutes" => 1,
                "h" | "hour" | "hours" => 60,
                "d" | "day" | "days" => 24 * 60,
                "w" | "week" | "weeks" => 7 * 24 * 60,
                _ => return Err(crate::tr!("yaml.bad_unit", value = s, unit = unit)),
            };
            total = n
                .checked_mul(factor)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| crate::tr!("yaml.too_large", value = s))?;
            rest = rest[unit_len..].trim_start();
        }
        // No target of a desk is longer than a century; refusing more keeps every
        // `seconds()` and chrono conversion far from overflowing.
        if total > Dur::MAX.minutes {
            return Err(crate::tr!("yaml.too_large", value = s));
        }
        Ok(Dur { minutes: total })
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.minutes;
        if m == 0 {
            return write!(f, "0m");
        }
        let (h, rem) = (m / 60, m % 60);
        match (h, rem) {
            (0, r) => write!(f, "{r}m"),
            (h, 0) => write!(f, "{h}h"),
            (h, r) => write!(f, "{h}h{r}m"),
        }
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Dur {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^([0-9]+ ?(m|min|mins|minutes|h|hour|hours|d|day|days|w|week|weeks) ?)+$",
            "description": "A duration such as 10m, 2h, 24h, 1h30m or 3d."
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!("10m".parse::<Dur>().unwrap(), Dur::minutes(10));
        assert_eq!("1h30m".parse::<Dur>().unwrap(), Dur::minutes(90));
        assert_eq!("3d".parse::<Dur>().unwrap(), Dur::hours(72));
        assert_eq!(Dur::hours(24).to_string(), "24h");
        assert_eq!(Dur::minutes(90).to_string(), "1h30m");
        assert!("10x".parse::<Dur>().is_err());
        assert!("h".parse::<Dur>().is_err());
        assert!("99999999999999999999m".parse::<Dur>().is_err());
    }
}
