//! Tests for the JSON layer: syntax tables, deserialization, serialization, member iteration,
//! and a deterministic property loop (with a differential check against `serde_json`).

use std::string::String;
use std::vec::Vec;
use std::{format, vec};

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

use super::*;

fn arena() -> [u8; 256] {
    [0; 256]
}

// ---------------------------------------------------------------------------------------------
// Syntax

/// `(input, expected error)` rows: `validate` and `from_slice::<IgnoredAny>` must both give it.
macro_rules! invalid {
    ($($input:expr => $err:expr,)*) => {
        &[$(($input as &[u8], $err)),*]
    };
}

#[test]
fn syntax_errors() {
    use Error::*;
    let cases: &[(&[u8], Error)] = invalid![
        b"" => UnexpectedEnd,
        b" \t\r\n" => UnexpectedEnd,
        // numbers
        b"01" => InvalidNumber { offset: 1 },
        b"-01" => InvalidNumber { offset: 2 },
        b"00" => InvalidNumber { offset: 1 },
        b"-" => InvalidNumber { offset: 1 },
        b"--1" => InvalidNumber { offset: 1 },
        b"-a" => InvalidNumber { offset: 1 },
        b"1." => InvalidNumber { offset: 2 },
        b"1.e5" => InvalidNumber { offset: 2 },
        b".5" => InvalidNumber { offset: 0 },
        b"1e" => InvalidNumber { offset: 2 },
        b"1E+" => InvalidNumber { offset: 3 },
        b"1e-x" => InvalidNumber { offset: 3 },
        b"+1" => InvalidNumber { offset: 0 },
        b"NaN" => InvalidNumber { offset: 0 },
        b"Infinity" => InvalidNumber { offset: 0 },
        b"-Infinity" => InvalidNumber { offset: 1 },
        b"[1,-]" => InvalidNumber { offset: 4 },
        b"0x10" => TrailingCharacters { offset: 1 },
        b"1.5.3" => TrailingCharacters { offset: 3 },
        // structure
        b"[1,]" => Syntax { offset: 3 },
        b"[1,,2]" => Syntax { offset: 3 },
        b"[,1]" => Syntax { offset: 1 },
        b"[1 2]" => Syntax { offset: 3 },
        b"[1}" => Syntax { offset: 2 },
        b"{\"a\":1,}" => Syntax { offset: 7 },
        b"{\"a\":1]" => Syntax { offset: 6 },
        b"{\"a\" 1}" => Syntax { offset: 5 },
        b"{\"a\":1 \"b\":2}" => Syntax { offset: 7 },
        b"{,}" => Syntax { offset: 1 },
        b"{a:1}" => Syntax { offset: 1 },
        b"{'a':1}" => Syntax { offset: 1 },
        b"['a']" => Syntax { offset: 1 },
        b"{1:2}" => Syntax { offset: 1 },
        b"True" => Syntax { offset: 0 },
        b"trux" => Syntax { offset: 3 },
        b"nul" => UnexpectedEnd,
        b"tru" => UnexpectedEnd,
        b"[" => UnexpectedEnd,
        b"[1" => UnexpectedEnd,
        b"[1," => UnexpectedEnd,
        b"{" => UnexpectedEnd,
        b"{\"a\"" => UnexpectedEnd,
        b"{\"a\":" => UnexpectedEnd,
        b"{\"a\":1" => UnexpectedEnd,
        b"{\"a\":1," => UnexpectedEnd,
        b"\"abc" => UnexpectedEnd,
        b"]" => Syntax { offset: 0 },
        b"}" => Syntax { offset: 0 },
        b"\x0c1" => Syntax { offset: 0 },
        b"\xc2\xa01" => Syntax { offset: 0 },
        // strings
        b"\"a\x01\"" => ControlCharacter { offset: 2 },
        b"\"\x00\"" => ControlCharacter { offset: 1 },
        b"\"\t\"" => ControlCharacter { offset: 1 },
        b"\"\n\"" => ControlCharacter { offset: 1 },
        b"\"\x1f\"" => ControlCharacter { offset: 1 },
        b"\"\\x\"" => InvalidEscape { offset: 1 },
        b"\"ab\\'\"" => InvalidEscape { offset: 3 },
        b"\"\\u12\"" => InvalidEscape { offset: 1 },
        b"\"\\u00\"" => InvalidEscape { offset: 1 },
        b"\"\\uZZZZ\"" => InvalidEscape { offset: 1 },
        b"\"\\U0041\"" => InvalidEscape { offset: 1 },
        b"\"\\u12" => UnexpectedEnd,
        b"\"\\" => UnexpectedEnd,
        b"\"\\ud800\"" => InvalidEscape { offset: 1 },
        b"\"\\udc00\"" => InvalidEscape { offset: 1 },
        b"\"\\ude00\\ud83d\"" => InvalidEscape { offset: 1 },
        b"\"\\ud800\\u0041\"" => InvalidEscape { offset: 1 },
        b"\"\\ud800\\n\"" => InvalidEscape { offset: 1 },
        b"\"\\ud800x\"" => InvalidEscape { offset: 1 },
        b"\"\\ud800\\ud800\"" => InvalidEscape { offset: 1 },
        b"\"\\ud800" => UnexpectedEnd,
        b"\"\\ud800\\" => UnexpectedEnd,
        b"\"\\ud800\\u12" => UnexpectedEnd,
        b"\"\xff\"" => InvalidUtf8 { offset: 1 },
        b"\"a\xc3\"" => InvalidUtf8 { offset: 2 },
        b"\"\xed\xa0\x80\"" => InvalidUtf8 { offset: 1 },
        b"\"\xc0\xaf\"" => InvalidUtf8 { offset: 1 },
        b"{\"k\xff\":1}" => InvalidUtf8 { offset: 3 },
        // outside strings, trailing bytes
        b"\xff" => Syntax { offset: 0 },
        b"\xef\xbb\xbf{}" => Syntax { offset: 0 },
        b"[1]\xff" => TrailingCharacters { offset: 3 },
        b"{}x" => TrailingCharacters { offset: 2 },
        b"{} \x00" => TrailingCharacters { offset: 3 },
        b"{}\x00" => TrailingCharacters { offset: 2 },
        b"1 2" => TrailingCharacters { offset: 2 },
        b"null null" => TrailingCharacters { offset: 5 },
        b"\"a\"\"b\"" => TrailingCharacters { offset: 3 },
    ];
    for (input, expected) in cases {
        let got = validate(input);
        assert_eq!(
            got,
            Err(*expected),
            "validate {:?}",
            String::from_utf8_lossy(input)
        );
        assert!(expected.is_syntax());
        let got = from_slice::<IgnoredAny>(input, &mut arena()).map(|_| ());
        assert_eq!(
            got,
            Err(*expected),
            "from_slice {:?}",
            String::from_utf8_lossy(input)
        );
        // Typed targets report the same syntax error.
        let got = from_slice::<Claims<'_>>(input, &mut arena()).map(|_| ());
        assert_eq!(
            got,
            Err(*expected),
            "Claims {:?}",
            String::from_utf8_lossy(input)
        );
        let got = from_slice::<&str>(input, &mut arena()).map(|_| ());
        assert_eq!(
            got,
            Err(*expected),
            "&str {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

fn nested(open: &str, close: &str, depth: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..depth {
        v.extend_from_slice(open.as_bytes());
    }
    v.push(b'1');
    for _ in 0..depth {
        v.extend_from_slice(close.as_bytes());
    }
    v
}

#[test]
fn depth_limit() {
    for (open, close, width) in [("[", "]", 1), ("{\"a\":", "}", 5), ("[{\"a\":", "}]", 6)] {
        let levels = if width == 6 { MAX_DEPTH / 2 } else { MAX_DEPTH };
        let ok = nested(open, close, levels);
        assert_eq!(validate(&ok), Ok(()));
        assert!(from_slice::<IgnoredAny>(&ok, &mut arena()).is_ok());
        let deep = nested(open, close, levels + 1);
        let offset = if width == 6 {
            levels * 6
        } else {
            MAX_DEPTH * width
        };
        assert_eq!(validate(&deep), Err(Error::TooDeep { offset }));
        assert_eq!(
            from_slice::<IgnoredAny>(&deep, &mut arena()).map(|_| ()),
            Err(Error::TooDeep { offset })
        );
    }
    // 10 000 open brackets: an error, not a stack overflow.
    let brackets = vec![b'['; 10_000];
    assert_eq!(validate(&brackets), Err(Error::TooDeep { offset: 64 }));
    for input in [brackets.clone(), vec![b'{'; 10_000]] {
        assert!(validate(&input).is_err());
        assert!(from_slice::<IgnoredAny>(&input, &mut arena()).is_err());
        assert!(from_slice::<Claims<'_>>(&input, &mut arena()).is_err());
        assert!(
            object_members(&input).is_err() || object_members(&input).unwrap().any(|m| m.is_err())
        );
    }
    // A typed nesting that exceeds the limit is caught by the deserializer too.
    let mut deep = b"{\"a\":".to_vec();
    deep.extend_from_slice(&brackets[..200]);
    assert_eq!(
        from_slice::<LinearMapStrIgnored<'_>>(&deep, &mut arena()).map(|_| ()),
        Err(Error::TooDeep { offset: 5 + 63 })
    );
    // Members of a top-level object may hold 63 more levels.
    let mut inner = b"{\"a\":".to_vec();
    inner.extend_from_slice(&nested("[", "]", MAX_DEPTH - 1));
    inner.push(b'}');
    assert!(object_members(&inner).unwrap().all(|m| m.is_ok()));
    let mut too_deep = b"{\"a\":".to_vec();
    too_deep.extend_from_slice(&nested("[", "]", MAX_DEPTH));
    too_deep.push(b'}');
    let results: Vec<_> = object_members(&too_deep).unwrap().collect();
    assert!(matches!(results[..], [Err(Error::TooDeep { .. })]));
}

type LinearMapStrIgnored<'a> = heapless::LinearMap<&'a str, IgnoredAny, 4>;

#[test]
fn valid_edge_cases() {
    let cases: &[&[u8]] = &[
        b"0",
        b"-0",
        b"1.0",
        b"-0.0",
        b"1.5E+10",
        b"1e-7",
        b"1E7",
        b"0e0",
        b"-1.5e-300",
        b"1e400",
        b"18446744073709551615",
        b"-9223372036854775808",
        b"18446744073709551616",
        b"123456789012345678901234567890",
        b"true",
        b"false",
        b"null",
        b"\"\"",
        b"[]",
        b"{}",
        b"[[]]",
        b"\"\\ud83d\\ude00\"",
        b"\"\\uD83D\\uDE00\"",
        "\"김예슬\"".as_bytes(),
        "\"😀 é\"".as_bytes(),
        b"\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"",
        b"\"\\u0000\"",
        b"\"\x7f\"",
        b"{\"\\u0073ub\":1}",
        b"{\"a\":1,\"a\":2}",
        b" \t\n\r{ \"a\" : [ 1 , { } , [ ] , null , true , false , \"x\" , -2.5e+3 ] , \"b\" : { \"c\" : { } } } \n\r\t ",
        b"[{\"a\":[{\"b\":[null]}]}]",
    ];
    for input in cases {
        assert_eq!(
            validate(input),
            Ok(()),
            "{:?}",
            String::from_utf8_lossy(input)
        );
        assert!(from_slice::<IgnoredAny>(input, &mut arena()).is_ok());
        assert!(serde_json::from_slice::<serde_json::Value>(input).is_ok());
    }
}

// ---------------------------------------------------------------------------------------------
// Deserialization

#[derive(Debug, PartialEq, Deserialize, Serialize)]
struct Claims<'a> {
    sub: &'a str,
    name: heapless::String<32>,
    exp: i64,
    #[serde(default)]
    email: Option<&'a str>,
    roles: heapless::Vec<&'a str, 4>,
    profile: Profile<'a>,
    kind: Kind,
    score: f64,
}

#[derive(Debug, PartialEq, Deserialize, Serialize)]
struct Profile<'a> {
    locale: &'a str,
    verified: bool,
    age: u8,
}

#[derive(Debug, PartialEq, Deserialize, Serialize)]
enum Kind {
    Plain,
    Level(u32),
    Pair(u8, i8),
    Named { x: i16 },
}

const CLAIMS: &str = r#"{
    "sub": "user-1",
    "name": "Kim \"K\" \u00e9",
    "exp": 1700000000,
    "unknown": {"deep": [1, 2, {"x": "\u0041"}], "n": null},
    "roles": ["admin", "dev\n"],
    "profile": {"locale": "ko-KR", "verified": true, "age": 42},
    "kind": {"Pair": [1, -1]},
    "score": 3
}"#;

#[test]
fn deserialize_struct() {
    let mut buf = arena();
    let (claims, used) = from_slice::<Claims<'_>>(CLAIMS.as_bytes(), &mut buf).unwrap();
    assert_eq!(claims.sub, "user-1");
    assert_eq!(claims.name.as_str(), "Kim \"K\" é");
    assert_eq!(claims.exp, 1_700_000_000);
    assert_eq!(claims.email, None);
    assert_eq!(claims.roles.as_slice(), ["admin", "dev\n"]);
    assert_eq!(
        claims.profile,
        Profile {
            locale: "ko-KR",
            verified: true,
            age: 42
        }
    );
    assert_eq!(claims.kind, Kind::Pair(1, -1));
    assert_eq!(claims.score, 3.0);
    // Escaped strings go through the arena even for owned fields (heapless copies from it).
    assert_eq!(used, "Kim \"K\" é".len() + 4);
}

#[test]
fn zero_copy_and_arena() {
    let input = br#"{"a":"plain","b":"esc\u00e9\n"}"#;
    #[derive(Deserialize)]
    struct Two<'a> {
        a: &'a str,
        b: &'a str,
    }
    let mut buf = [0u8; 16];
    let (two, used) = from_slice::<Two<'_>>(input, &mut buf).unwrap();
    assert_eq!(two.a, "plain");
    assert!(
        core::ptr::eq(two.a.as_ptr(), input[6..].as_ptr()),
        "borrowed from input"
    );
    assert_eq!(two.b, "escé\n");
    assert_eq!(used, 6);
    // Too small: reports a safe bound that works.
    let mut small = [0u8; 5];
    let err = from_slice::<Two<'_>>(input, &mut small)
        .map(|_| ())
        .unwrap_err();
    let Error::ArenaTooSmall { needed } = err else {
        panic!("{err:?}")
    };
    assert!(needed >= 6 && needed <= input.len());
    let mut exact = vec![0u8; needed];
    assert!(from_slice::<Two<'_>>(input, &mut exact).is_ok());
    // Escaped member names need no arena.
    let (two, used) = from_slice::<Two<'_>>(br#"{"\u0061":"x","\u0062":"y"}"#, &mut []).unwrap();
    assert_eq!((two.a, two.b, used), ("x", "y", 0));
    // Syntax errors win over a too-small arena.
    assert_eq!(
        from_slice::<Two<'_>>(br#"{"a":"\n","b":"x",}"#, &mut []).map(|_| ()),
        Err(Error::Syntax { offset: 18 })
    );
}

/// Reads `T` through `deserialize_any` only, whatever `T` asks for: the reference for the
/// direct string and integer paths (`string_or_any`, `number_or_any`).
struct ViaAny<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ViaAny<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OnlyAny<D>(D);
        impl<'de, D: serde::Deserializer<'de>> serde::Deserializer<'de> for OnlyAny<D> {
            type Error = D::Error;
            fn deserialize_any<V: serde::de::Visitor<'de>>(
                self,
                visitor: V,
            ) -> Result<V::Value, D::Error> {
                self.0.deserialize_any(visitor)
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
                byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map
                struct enum identifier ignored_any
            }
        }
        T::deserialize(OnlyAny(d)).map(ViaAny)
    }
}

#[test]
fn direct_string_and_integer_paths_equal_deserialize_any() {
    fn same<'a, T>(input: &'a [u8], a: &'a mut [u8], b: &'a mut [u8])
    where
        T: Deserialize<'a> + PartialEq + fmt::Debug,
    {
        let direct = from_slice::<T>(input, a);
        let via_any = from_slice::<ViaAny<T>>(input, b).map(|(v, n)| (v.0, n));
        assert_eq!(
            direct,
            via_any,
            "{} for {:?}",
            core::any::type_name::<T>(),
            String::from_utf8_lossy(input)
        );
    }
    let inputs: &[&[u8]] = &[
        b"\"abc\"",
        b" \"a\\u0041\\n\"",
        b"\"\"",
        b"  \"too long for four\"",
        b"\"unterminated",
        b"\"bad \\x escape\"",
        b"5",
        b" -3",
        b"0",
        b"-0",
        b"007",
        b"1.5",
        b"1e3",
        b"-",
        b"300",
        b"-129",
        b"4294967296",
        b"18446744073709551615",
        b"18446744073709551616",
        b"-9223372036854775809",
        b"null",
        b"true",
        b"false",
        b"nul",
        b"[1]",
        b"{\"a\":1}",
        b"",
        b"   ",
        b"}",
        b"\"x\" 1",
    ];
    for input in inputs {
        same::<&str>(input, &mut arena(), &mut arena());
        same::<heapless::String<4>>(input, &mut arena(), &mut arena());
        same::<i8>(input, &mut arena(), &mut arena());
        same::<i16>(input, &mut arena(), &mut arena());
        same::<i32>(input, &mut arena(), &mut arena());
        same::<i64>(input, &mut arena(), &mut arena());
        same::<u8>(input, &mut arena(), &mut arena());
        same::<u16>(input, &mut arena(), &mut arena());
        same::<u32>(input, &mut arena(), &mut arena());
        same::<u64>(input, &mut arena(), &mut arena());
    }
}

#[test]
fn mismatches() {
    fn err<'a, T: Deserialize<'a>>(input: &'a [u8], arena: &'a mut [u8]) -> Error {
        match from_slice::<T>(input, arena) {
            Ok(_) => panic!("accepted {:?}", String::from_utf8_lossy(input)),
            Err(e) => e,
        }
    }
    let m = |field, offset| Error::Mismatch { field, offset };
    let mut a = arena();
    // Wrong type in a field names the field.
    let input = CLAIMS.replace("1700000000", "\"soon\"");
    let offset = input.find("\"soon\"").unwrap();
    assert_eq!(
        err::<Claims<'_>>(input.as_bytes(), &mut a),
        m(Some("exp"), offset)
    );
    // Nested struct field.
    let input = CLAIMS.replace("42", "420");
    let offset = input.find("420").unwrap();
    assert_eq!(
        err::<Claims<'_>>(input.as_bytes(), &mut a),
        m(Some("age"), offset)
    );
    // Missing field: named, at the object.
    assert_eq!(
        err::<Profile<'_>>(br#"{"locale":"x","age":1}"#, &mut a),
        m(Some("verified"), 0)
    );
    // Duplicate known field.
    assert_eq!(
        err::<Profile<'_>>(
            br#"{"locale":"x","locale":"y","verified":true,"age":1}"#,
            &mut a
        ),
        m(Some("locale"), 0)
    );
    // heapless::String capacity.
    let long = format!(r#"{{"sub":"s","name":"{}"}}"#, "n".repeat(33));
    assert!(matches!(
        err::<Claims<'_>>(long.as_bytes(), &mut a),
        Error::Mismatch {
            field: Some("name"),
            ..
        }
    ));
    // heapless::Vec capacity.
    assert!(matches!(
        err::<heapless::Vec<u8, 2>>(b"[1,2,3]", &mut a),
        Error::Mismatch { field: None, .. }
    ));
    // Tuple too long / too short.
    assert_eq!(err::<(u8, u8)>(b"[1,2,3]", &mut a), m(None, 4));
    assert!(matches!(
        err::<(u8, u8)>(b"[1]", &mut a),
        Error::Mismatch { .. }
    ));
    // Integer range.
    assert_eq!(err::<u8>(b"256", &mut a), m(None, 0));
    assert_eq!(err::<u32>(b" -1", &mut a), m(None, 1));
    assert_eq!(err::<u64>(b"18446744073709551616", &mut a), m(None, 0));
    assert_eq!(err::<i64>(b"1.5", &mut a), m(None, 0));
    assert_eq!(err::<f64>(b"1e400", &mut a), m(None, 0));
    // Type.
    assert_eq!(err::<&str>(b"[1]", &mut a), m(None, 0));
    assert_eq!(err::<bool>(b"\"true\"", &mut a), m(None, 0));
    assert_eq!(err::<Profile<'_>>(br#"["x",true,1]"#, &mut a), m(None, 0));
    assert_eq!(err::<char>(b"\"ab\"", &mut a), m(None, 0));
    // Enums.
    assert_eq!(err::<Kind>(b"\"Nope\"", &mut a), m(None, 0));
    assert_eq!(
        err::<Kind>(br#"{"Level":1,"Plain":null}"#, &mut a),
        m(None, 10)
    );
    assert_eq!(err::<Kind>(b"{}", &mut a), m(None, 0));
    assert_eq!(err::<Kind>(b"1", &mut a), m(None, 0));
    assert_eq!(err::<Kind>(br#"{"Level":"x"}"#, &mut a), m(None, 9));
    // A string borrowed through `&str` needs the arena when escaped.
    assert_eq!(
        err::<&str>(br#""\n""#, &mut []),
        Error::ArenaTooSmall { needed: 4 }
    );
    // Trailing bytes after a value that fits.
    assert_eq!(
        err::<u8>(b"1 x", &mut a),
        Error::TrailingCharacters { offset: 2 }
    );
    // Syntax errors win over mismatches found earlier.
    assert_eq!(err::<u8>(b"[1,]", &mut a), Error::Syntax { offset: 3 });
    assert_eq!(
        err::<Profile<'_>>(br#"{"age":"x","locale":"#, &mut a),
        Error::UnexpectedEnd
    );
}

#[test]
fn numbers() {
    fn de<'a, T: Deserialize<'a>>(input: &'a [u8]) -> T {
        from_slice::<T>(input, &mut []).unwrap().0
    }
    assert_eq!(de::<u64>(b"18446744073709551615"), u64::MAX);
    assert_eq!(de::<i64>(b"-9223372036854775808"), i64::MIN);
    assert_eq!(de::<i64>(b"9223372036854775807"), i64::MAX);
    assert_eq!(
        de::<f64>(b"18446744073709551616"),
        18_446_744_073_709_551_616.0
    );
    assert_eq!(de::<u128>(b"18446744073709551616"), 1u128 << 64);
    assert_eq!(
        de::<u128>(b"340282366920938463463374607431768211455"),
        u128::MAX
    );
    assert_eq!(
        de::<i128>(b"-170141183460469231731687303715884105728"),
        i128::MIN
    );
    assert_eq!(de::<i128>(b"5"), 5);
    assert_eq!(de::<i64>(b"-0"), 0);
    assert_eq!(de::<u8>(b"-0"), 0);
    assert!(de::<f64>(b"-0").is_sign_negative());
    assert!(de::<f64>(b"-0.0").is_sign_negative());
    assert_eq!(de::<f64>(b"1"), 1.0);
    assert_eq!(de::<f64>(b"1.5E+10"), 1.5e10);
    assert_eq!(de::<f64>(b"1e-7"), 1e-7);
    assert_eq!(de::<f32>(b"0.1"), 0.1f32);
    assert_eq!(de::<Option<f64>>(b"2.5"), Some(2.5));
    assert_eq!(de::<u8>(b"255"), 255);
    assert_eq!(de::<i8>(b"-128"), -128);
    // deserialize_any: what an untyped visitor sees.
    #[derive(Debug, PartialEq)]
    enum Seen {
        U(u64),
        I(i64),
        F(f64),
    }
    struct V;
    impl serde::de::Visitor<'_> for V {
        type Value = Seen;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a number")
        }
        fn visit_u64<E>(self, v: u64) -> Result<Seen, E> {
            Ok(Seen::U(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Seen, E> {
            Ok(Seen::I(v))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Seen, E> {
            Ok(Seen::F(v))
        }
    }
    struct Any(Seen);
    impl<'de> Deserialize<'de> for Any {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(V).map(Any)
        }
    }
    for (input, seen) in [
        (&b"0"[..], Seen::U(0)),
        (b"-0", Seen::I(0)),
        (b"18446744073709551615", Seen::U(u64::MAX)),
        (
            b"18446744073709551616",
            Seen::F(18_446_744_073_709_551_616.0),
        ),
        (b"-9223372036854775808", Seen::I(i64::MIN)),
        (
            b"-9223372036854775809",
            Seen::F(-9_223_372_036_854_775_809.0),
        ),
        (b"1.0", Seen::F(1.0)),
        (b"1e2", Seen::F(100.0)),
    ] {
        assert_eq!(
            de::<Any>(input).0,
            seen,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn other_types() {
    fn de<'a, T: Deserialize<'a>>(input: &'a [u8], arena: &'a mut [u8]) -> T {
        from_slice::<T>(input, arena).unwrap().0
    }
    let mut a = arena();
    assert_eq!(de::<char>(b"\"\\u00e9\"", &mut a), 'é');
    assert_eq!(de::<&[u8]>(b"\"abc\"", &mut a), b"abc");
    de::<()>(b"null", &mut a);
    assert_eq!(de::<Option<u8>>(b" null ", &mut a), None);
    assert_eq!(de::<Option<&str>>(b"\"x\"", &mut a), Some("x"));
    assert_eq!(
        de::<(u8, &str, bool)>(b"[1,\"a\",false]", &mut a),
        (1, "a", false)
    );
    assert_eq!(de::<[i8; 3]>(b"[ 1 , -2 , 3 ]", &mut a), [1, -2, 3]);
    assert_eq!(de::<&str>("\"김예슬 😀\"".as_bytes(), &mut a), "김예슬 😀");
    assert_eq!(de::<&str>(b"\"\\ud83d\\ude00\"", &mut a), "😀");
    assert_eq!(de::<&str>(b"\"\\u0000\"", &mut a), "\0");
    #[derive(Debug, PartialEq, Deserialize)]
    struct Unit;
    #[derive(Debug, PartialEq, Deserialize)]
    struct New(u32);
    #[derive(Debug, PartialEq, Deserialize)]
    struct Tup(u8, bool);
    assert_eq!(de::<Unit>(b"null", &mut a), Unit);
    assert_eq!(de::<New>(b"7", &mut a), New(7));
    assert_eq!(de::<Tup>(b"[7,true]", &mut a), Tup(7, true));
    assert_eq!(de::<Kind>(b"\"Plain\"", &mut a), Kind::Plain);
    assert_eq!(de::<Kind>(b"{\"Plain\":null}", &mut a), Kind::Plain);
    assert_eq!(de::<Kind>(b"{ \"Level\" : 9 }", &mut a), Kind::Level(9));
    assert_eq!(
        de::<Kind>(b"{\"Named\":{\"x\":-3}}", &mut a),
        Kind::Named { x: -3 }
    );
    assert_eq!(
        de::<Kind>(b"{\"\\u004eamed\":{\"x\":1}}", &mut a),
        Kind::Named { x: 1 }
    );
    let mut a2 = arena();
    let map: heapless::LinearMap<&str, u32, 4> = de(b"{\"a\":1,\"b\\n\":2}", &mut a2);
    assert_eq!(map.get("a"), Some(&1));
    assert_eq!(map.get("b\n"), Some(&2));
    let map: heapless::LinearMap<u16, bool, 4> = de(b"{\"1\":true,\"-0\":false}", &mut a);
    assert_eq!(map.get(&1), Some(&true));
    assert_eq!(map.get(&0), Some(&false));
    assert!(from_slice::<heapless::LinearMap<u16, bool, 4>>(b"{\"01\":true}", &mut a).is_err());
    assert!(from_slice::<heapless::LinearMap<u16, bool, 4>>(b"{\"1.0\":true}", &mut a).is_err());
    let v: heapless::Vec<heapless::String<8>, 3> = de(b"[\"a\",\"\\t\"]", &mut a);
    assert_eq!(v.len(), 2);
    assert_eq!(v[1].as_str(), "\t");
    // Unknown members of every shape are skipped.
    let p: Profile<'_> = de(
        br#"{"x":[[],{},{"y":[1,"\u0041",null]}],"locale":"l","z":-1e5,"verified":false,"age":0,"w":"\ud83d\ude00"}"#,
        &mut a,
    );
    assert_eq!(p.locale, "l");
}

// ---------------------------------------------------------------------------------------------
// Members

#[test]
fn members() {
    let input = br#" {"sub":"x","aud":["a","b\u0063"],"\u0065xp":1.5e3,"n":null,"t":true,"o":{"k":[1]},"i":-42} "#;
    let mut it = object_members(input).unwrap();
    let (k, v) = it.next().unwrap().unwrap();
    assert_eq!(k.raw(), b"sub");
    assert_eq!(k.as_str(), Some("sub"));
    assert_eq!(k.offset(), 2);
    assert!(k.matches("sub") && !k.matches("su") && !k.matches("subx"));
    assert_eq!(v.kind(), ValueKind::String);
    assert_eq!(v.raw(), b"\"x\"");
    assert!(v.string_eq("x") && !v.string_eq("\"x\""));
    assert_eq!(v.as_str(), Some("x"));
    let (k, v) = it.next().unwrap().unwrap();
    assert!(k.matches("aud"));
    assert_eq!(v.kind(), ValueKind::Array);
    let elems: Vec<_> = v.array_elements().unwrap().map(Result::unwrap).collect();
    assert_eq!(elems.len(), 2);
    assert!(elems[0].string_eq("a"));
    assert!(elems[1].string_eq("bc"));
    assert_eq!(elems[1].as_str(), None);
    let mut out = [0u8; 2];
    assert_eq!(elems[1].unescape_into(&mut out), Ok("bc"));
    assert_eq!(
        elems[1].unescape_into(&mut [0u8; 1]),
        Err(Error::BufferTooSmall { needed: 2 })
    );
    let (k, v) = it.next().unwrap().unwrap();
    assert_eq!(k.raw(), b"\\u0065xp");
    assert_eq!(k.as_str(), None);
    assert!(k.matches("exp") && !k.matches("ex") && !k.matches("\\u0065xp"));
    assert_eq!(k.unescape_into(&mut [0u8; 3]), Ok("exp"));
    assert_eq!(v.kind(), ValueKind::Number);
    assert_eq!(v.as_number(), Some("1.5e3"));
    assert_eq!(v.as_f64(), Some(1500.0));
    assert_eq!(v.as_i64(), None);
    assert!(!v.string_eq("1.5e3"));
    assert!(v.unescape_into(&mut out).is_err());
    let (_, v) = it.next().unwrap().unwrap();
    assert_eq!(v.kind(), ValueKind::Null);
    assert!(v.is_null());
    assert_eq!(v.as_bool(), None);
    let (_, v) = it.next().unwrap().unwrap();
    assert_eq!((v.kind(), v.as_bool()), (ValueKind::Bool, Some(true)));
    let (_, v) = it.next().unwrap().unwrap();
    assert_eq!(v.kind(), ValueKind::Object);
    assert_eq!(v.raw(), br#"{"k":[1]}"#);
    let (k, inner) = v.members().unwrap().next().unwrap().unwrap();
    assert!(k.matches("k"));
    assert_eq!(inner.array_elements().unwrap().count(), 1);
    let (_, v) = it.next().unwrap().unwrap();
    assert_eq!(
        (v.as_i64(), v.as_u64(), v.as_number()),
        (Some(-42), None, Some("-42"))
    );
    assert!(it.next().is_none());
    assert!(it.next().is_none());

    // Not an object.
    assert_eq!(
        object_members(b" [1]").map(|_| ()),
        Err(Error::Mismatch {
            field: None,
            offset: 1
        })
    );
    assert_eq!(
        object_members(b"[1,]").map(|_| ()),
        Err(Error::Syntax { offset: 3 })
    );
    assert_eq!(object_members(b"").map(|_| ()), Err(Error::UnexpectedEnd));
    // Errors end the iteration.
    for (input, expected) in [
        (&br#"{"a":1,}"#[..], Error::Syntax { offset: 7 }),
        (br#"{"a":1} x"#, Error::TrailingCharacters { offset: 8 }),
        (br#"{"a":1"#, Error::UnexpectedEnd),
        (br#"{"a":01}"#, Error::InvalidNumber { offset: 6 }),
        (br#"{"a":1 "b":2}"#, Error::Syntax { offset: 7 }),
        (br#"{"a" 1}"#, Error::Syntax { offset: 5 }),
    ] {
        let results: Vec<_> = object_members(input).unwrap().collect();
        assert_eq!(results.last().unwrap().as_ref().map(|_| ()), Err(&expected));
        assert!(results[..results.len() - 1].iter().all(Result::is_ok));
    }
    assert_eq!(object_members(b"{}").unwrap().count(), 0);
    assert_eq!(object_members(b"{ } ").unwrap().count(), 0);
}

#[test]
fn unique_keys() {
    assert_eq!(check_unique_keys(b"{}"), Ok(()));
    assert_eq!(check_unique_keys(br#"{"a":1,"b":{"a":1,"a":2}}"#), Ok(()));
    assert_eq!(
        check_unique_keys(br#"{"a":1,"\u0061":2}"#),
        Err(Error::DuplicateKey { offset: 7 })
    );
    assert_eq!(
        check_unique_keys(br#"{"\u0061":1,"\u0061":2}"#),
        Err(Error::DuplicateKey { offset: 12 })
    );
    assert_eq!(check_unique_keys(br#"{"\u0061":1,"\u0062":2}"#), Ok(()));
    assert!(check_unique_keys(br#"[1]"#).is_err());
    assert_eq!(
        check_unique_keys(br#"{"a":1,"a":2,}"#),
        Err(Error::DuplicateKey { offset: 7 })
    );
    // Beyond the remembered names.
    for n in [15, 16, 17, 40] {
        let mut obj = String::from("{");
        for i in 0..n {
            obj.push_str(&format!("\"k{i}\":{i},"));
        }
        obj.push_str("\"end\":0}");
        assert_eq!(check_unique_keys(obj.as_bytes()), Ok(()), "{n}");
        for dup in [0, n / 2, n - 1] {
            let with_dup = obj.replace("\"end\"", &format!("\"k{dup}\""));
            let offset = with_dup.rfind(&format!("\"k{dup}\"")).unwrap();
            assert_eq!(
                check_unique_keys(with_dup.as_bytes()),
                Err(Error::DuplicateKey { offset }),
                "{n} {dup}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Serialization

fn ser<T: Serialize + ?Sized>(value: &T) -> String {
    let mut buf = [0u8; 512];
    let len = to_slice(value, &mut buf).unwrap();
    assert_eq!(serialized_len(value), Ok(len));
    String::from_utf8(buf[..len].to_vec()).unwrap()
}

/// Integers are written two digits a step straight into the output: every digit count, the
/// values around each power of ten, both signs, and every buffer too short for them (which
/// holds a prefix of the output, as for strings).
#[test]
fn serialize_integers_of_every_length() {
    let mut values = vec![0u64, 1, u64::MAX, u64::MAX - 1, 12_345_678_901_234_567_890];
    let mut p = 1u64;
    while let Some(next) = p.checked_mul(10) {
        values.extend([p - 1, p, p + 1, next / 2 + 7]);
        p = next;
    }
    values.extend([p - 1, p, p + 1]);
    for v in values {
        assert_eq!(ser(&v), format!("{v}"));
        let signed = v.cast_signed();
        for s in [signed, signed.wrapping_neg(), i64::MIN, i64::MAX] {
            assert_eq!(ser(&s), format!("{s}"));
        }
        let text = format!("[{v}]");
        for n in 0..text.len() {
            let mut buf = vec![b'#'; n];
            assert_eq!(
                to_slice(&[v], &mut buf),
                Err(Error::BufferTooSmall { needed: text.len() })
            );
            assert_eq!(buf, text.as_bytes()[..n], "{v} into {n} bytes");
        }
    }
}

#[test]
fn serialize_values() {
    assert_eq!(
        ser("a\"\\/\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}é😀"),
        format!("{}{}", r#""a\"\\/\n\r\t\b\f\u0001\u001f"#, "\u{7f}é😀\"")
    );
    assert_eq!(ser(&0u8), "0");
    assert_eq!(ser(&u64::MAX), "18446744073709551615");
    assert_eq!(ser(&i64::MIN), "-9223372036854775808");
    assert_eq!(ser(&u128::MAX), "340282366920938463463374607431768211455");
    assert_eq!(ser(&i128::MIN), "-170141183460469231731687303715884105728");
    assert_eq!(ser(&1.0f64), "1.0");
    assert_eq!(ser(&0.1f64), "0.1");
    assert_eq!(ser(&-0.0f64), "-0.0");
    assert_eq!(ser(&1e300f64), "1e300");
    assert_eq!(ser(&1e-7f64), "1e-7");
    assert_eq!(ser(&0.1f32), "0.1");
    assert_eq!(ser(&f64::MIN_POSITIVE), "2.2250738585072014e-308");
    assert_eq!(ser(&'x'), "\"x\"");
    assert_eq!(ser(&true), "true");
    assert_eq!(ser(&()), "null");
    assert_eq!(ser(&None::<u8>), "null");
    assert_eq!(ser(&Some(1u8)), "1");
    assert_eq!(ser(&[1u8, 2]), "[1,2]");
    assert_eq!(ser(&(1u8, "a")), "[1,\"a\"]");
    assert_eq!(ser(&Kind::Plain), "\"Plain\"");
    assert_eq!(ser(&Kind::Level(3)), "{\"Level\":3}");
    assert_eq!(ser(&Kind::Pair(1, -1)), "{\"Pair\":[1,-1]}");
    assert_eq!(ser(&Kind::Named { x: 2 }), "{\"Named\":{\"x\":2}}");
    let mut map = heapless::LinearMap::<i32, &str, 4>::new();
    map.insert(-1, "m").unwrap();
    map.insert(2, "t").unwrap();
    assert_eq!(ser(&map), "{\"-1\":\"m\",\"2\":\"t\"}");
    let mut map = heapless::LinearMap::<char, (), 4>::new();
    map.insert('"', ()).unwrap();
    assert_eq!(ser(&map), "{\"\\\"\":null}");
    struct Display;
    impl Serialize for Display {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_str(&format_args!("a\"{}", 5))
        }
    }
    assert_eq!(ser(&Display), "\"a\\\"5\"");
    assert_eq!(ser(&heapless::Vec::<u8, 0>::new()), "[]");
    assert_eq!(ser(serde_bytes_like(b"\x00\xff")), "[0,255]");
    // Unsupported values.
    let mut buf = [0u8; 64];
    assert_eq!(to_slice(&f64::NAN, &mut buf), Err(Error::Unsupported));
    assert_eq!(to_slice(&f32::INFINITY, &mut buf), Err(Error::Unsupported));
    assert_eq!(
        serialized_len(&[f64::NEG_INFINITY]),
        Err(Error::Unsupported)
    );
    let mut map = heapless::LinearMap::<bool, u8, 2>::new();
    map.insert(true, 1).unwrap();
    assert_eq!(to_slice(&map, &mut buf), Err(Error::Unsupported));
    let mut map = heapless::LinearMap::<(u8, u8), u8, 2>::new();
    map.insert((1, 2), 1).unwrap();
    assert_eq!(serialized_len(&map), Err(Error::Unsupported));
}

struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

fn serde_bytes_like(b: &[u8]) -> &Bytes<'_> {
    std::boxed::Box::leak(std::boxed::Box::new(Bytes(b)))
}

#[test]
fn buffer_too_small_is_exact() {
    let claims = sample_claims("a\"b\\c\u{1}é😀");
    let len = serialized_len(&claims).unwrap();
    let mut buf = vec![0u8; len + 8];
    assert_eq!(to_slice(&claims, &mut buf), Ok(len));
    let full = buf[..len].to_vec();
    for size in 0..len {
        let mut small = vec![0u8; size];
        assert_eq!(
            to_slice(&claims, &mut small),
            Err(Error::BufferTooSmall { needed: len })
        );
        assert_eq!(small[..], full[..size], "prefix written");
    }
}

fn sample_claims(text: &str) -> Claims<'_> {
    let mut roles = heapless::Vec::new();
    roles.push(text).unwrap();
    roles.push("").unwrap();
    Claims {
        sub: text,
        name: heapless::String::try_from("Kim 김").unwrap(),
        exp: -5,
        email: Some(text),
        roles,
        profile: Profile {
            locale: "\u{0}\u{1f}",
            verified: false,
            age: 255,
        },
        kind: Kind::Named { x: i16::MIN },
        score: -1.25e-9,
    }
}

#[test]
fn round_trips() {
    fn check<T>(value: &T)
    where
        T: Serialize + for<'a> Deserialize<'a> + PartialEq + fmt::Debug,
    {
        let mut buf = [0u8; 1024];
        let len = to_slice(value, &mut buf).unwrap();
        assert_eq!(serialized_len(value), Ok(len));
        assert_eq!(validate(&buf[..len]), Ok(()));
        let mut a = arena();
        let (back, _) = from_slice::<T>(&buf[..len], &mut a).unwrap();
        assert_eq!(&back, value);
        // serde_json reads the same value.
        let theirs: T = serde_json::from_slice(&buf[..len]).unwrap();
        assert_eq!(&theirs, value);
    }
    for text in [
        "",
        "plain",
        "a\"b\\c\u{1}é😀",
        "\u{7f}\u{80}\u{ffff}\u{10ffff}",
        "/\\/",
    ] {
        let claims = sample_claims(text);
        let mut buf = [0u8; 1024];
        let len = to_slice(&claims, &mut buf).unwrap();
        let mut a = [0u8; 1024];
        let (back, _) = from_slice::<Claims<'_>>(&buf[..len], &mut a).unwrap();
        assert_eq!(back, claims);
    }
    check(&(1u8, -2i16, 3u32, -4i64, 5u64, i128::MIN, u128::MAX));
    check(&[
        0.1f64,
        -0.0,
        1e300,
        5e-324,
        f64::MAX,
        f64::MIN_POSITIVE,
        1.0,
        123456.789,
    ]);
    check(&[0.1f32, f32::MAX, f32::MIN_POSITIVE, 1e-45]);
    check(&Kind::Plain);
    check(&Kind::Level(u32::MAX));
    check(&Kind::Pair(0, i8::MIN));
    check(&Kind::Named { x: 7 });
    check(&Some(Some(3u8)));
    check(&heapless::String::<16>::try_from("tab\there").unwrap());
    let mut map = heapless::LinearMap::<u64, heapless::Vec<bool, 2>, 4>::new();
    map.insert(u64::MAX, heapless::Vec::new()).unwrap();
    map.insert(0, heapless::Vec::from_slice(&[true, false]).unwrap())
        .unwrap();
    check(&map);
    let mut map = heapless::LinearMap::<i8, char, 4>::new();
    map.insert(-128, '\n').unwrap();
    check(&map);
}

#[test]
fn serde_json_agrees_on_strings() {
    // Same bytes as serde_json for strings and compact structures.
    for text in [
        "",
        "a\"b\\c\u{1}\u{1f}é😀\u{7f}/",
        "\u{8}\u{c}\n\r\t",
        "김예슬",
    ] {
        assert_eq!(ser(text), serde_json::to_string(text).unwrap());
    }
    let claims = sample_claims("x\u{2028}");
    assert_eq!(ser(&claims), serde_json::to_string(&claims).unwrap());
}

// ---------------------------------------------------------------------------------------------
// Errors

#[test]
fn error_kinds_and_display() {
    let all = [
        Error::UnexpectedEnd,
        Error::Syntax { offset: 1 },
        Error::InvalidUtf8 { offset: 1 },
        Error::ControlCharacter { offset: 1 },
        Error::InvalidEscape { offset: 1 },
        Error::InvalidNumber { offset: 1 },
        Error::TrailingCharacters { offset: 1 },
        Error::TooDeep { offset: 1 },
        Error::DuplicateKey { offset: 1 },
        Error::ArenaTooSmall { needed: 1 },
        Error::Mismatch {
            field: Some("exp"),
            offset: 1,
        },
        Error::BufferTooSmall { needed: 1 },
        Error::Unsupported,
    ];
    let mut kinds: Vec<_> = all.iter().map(Error::kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    assert_eq!(kinds.len(), all.len());
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e.is_syntax(), i < 8, "{e:?}");
        let text = format!("{e}");
        assert!(!text.is_empty() && !text.contains('{'), "{text}");
        assert!(e
            .kind()
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'));
    }
    assert_eq!(
        format!("{}", all[10]),
        "JSON value does not fit the target type (field `exp`) at offset 1"
    );
    let custom: Error = serde::de::Error::custom("x");
    assert_eq!(
        format!("{custom}"),
        "JSON value does not fit the target type"
    );
}

// ---------------------------------------------------------------------------------------------
// Property loop

/// xorshift64*: deterministic, no dependencies.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).unwrap()).unwrap()
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn gen_ws(rng: &mut Rng, out: &mut Vec<u8>) {
    if rng.below(4) == 0 {
        out.extend_from_slice(rng.pick(&[" ", "\n", "\t", "\r\n  "]).as_bytes());
    }
}

fn gen_string(rng: &mut Rng, out: &mut Vec<u8>) {
    out.push(b'"');
    for _ in 0..rng.below(6) {
        out.extend_from_slice(
            rng.pick(&[
                "a",
                "sub",
                " ",
                "김",
                "😀",
                "é",
                "\\n",
                "\\\"",
                "\\\\",
                "\\/",
                "\\u00e9",
                "\\u0000",
                "\\ud83d\\ude00",
                "\\uD834\\uDD1E",
                "\\t",
                "\\b",
                "\\f",
                "\\r",
            ])
            .as_bytes(),
        );
    }
    out.push(b'"');
}

fn gen_value(rng: &mut Rng, out: &mut Vec<u8>, depth: usize) {
    gen_ws(rng, out);
    let choice = if depth > 6 {
        rng.below(4)
    } else {
        rng.below(7)
    };
    match choice {
        0 => out.extend_from_slice(rng.pick(&["null", "true", "false"]).as_bytes()),
        1 => out.extend_from_slice(
            rng.pick(&[
                "0",
                "-0",
                "1",
                "-1",
                "42",
                "1.5",
                "-0.25e-3",
                "1E+9",
                "18446744073709551615",
                "18446744073709551616",
                "-9223372036854775809",
                "1e400",
                "3.14159",
            ])
            .as_bytes(),
        ),
        2 | 3 => gen_string(rng, out),
        4 => {
            out.push(b'[');
            let n = rng.below(4);
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                gen_value(rng, out, depth + 1);
            }
            gen_ws(rng, out);
            out.push(b']');
        }
        _ => {
            out.push(b'{');
            let n = rng.below(4);
            for i in 0..n {
                if i > 0 {
                    out.push(b',');
                }
                gen_ws(rng, out);
                gen_string(rng, out);
                gen_ws(rng, out);
                out.push(b':');
                gen_value(rng, out, depth + 1);
            }
            gen_ws(rng, out);
            out.push(b'}');
        }
    }
    gen_ws(rng, out);
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    const BYTES: &[u8] =
        b"{}[],:\"\\ \t\n0123456789-+.eEtrufalsn\x00\x1f\x7f\xc3\xa9\xff\xed\xa0\x80u'";
    for _ in 0..=rng.below(3) {
        let pos = if input.is_empty() {
            0
        } else {
            rng.below(input.len() + 1)
        };
        match rng.below(4) {
            0 if pos < input.len() => input[pos] = BYTES[rng.below(BYTES.len())],
            1 => input.insert(pos, BYTES[rng.below(BYTES.len())]),
            2 if pos < input.len() => {
                input.remove(pos);
            }
            _ => input.truncate(pos),
        }
    }
}

#[derive(Deserialize)]
#[allow(dead_code, reason = "fields are only deserialized")]
struct Loose<'a> {
    #[serde(default)]
    sub: Option<&'a str>,
    #[serde(default)]
    a: Option<heapless::Vec<IgnoredAny, 8>>,
    #[serde(default)]
    n: Option<f64>,
}

fn check_input(input: &[u8]) {
    let valid = validate(input);
    // `from_slice::<IgnoredAny>` agrees exactly.
    let ignored = from_slice::<IgnoredAny>(input, &mut []).map(|(_, used)| used);
    assert_eq!(
        ignored,
        valid.map(|()| 0),
        "{:?}",
        String::from_utf8_lossy(input)
    );
    // Typed targets never panic, and report validate's error on invalid input.
    let mut big = vec![0u8; input.len()];
    let typed = from_slice::<Loose<'_>>(input, &mut big).map(|_| ());
    let mut small = [0u8; 4];
    let any_map = from_slice::<heapless::LinearMap<&str, IgnoredAny, 8>>(input, &mut small);
    let strings = from_slice::<heapless::Vec<&str, 8>>(input, &mut big[..]);
    if let Err(e) = valid {
        assert_eq!(typed, Err(e));
        assert_eq!(any_map.map(|_| ()), Err(e));
        assert_eq!(strings.map(|_| ()), Err(e));
    } else {
        for r in [typed, any_map.map(|_| ()), strings.map(|_| ())] {
            if let Err(e) = r {
                assert!(
                    !e.is_syntax(),
                    "{e:?} for valid {:?}",
                    String::from_utf8_lossy(input)
                );
            }
        }
    }
    // serde_json agrees on validity (inputs here are far from either depth limit).
    let theirs = serde_json::from_slice::<serde_json::Value>(input);
    assert_eq!(
        valid.is_ok(),
        theirs.is_ok(),
        "{:?}: ours {valid:?}, serde_json {theirs:?}",
        String::from_utf8_lossy(input)
    );
    // Member iteration never panics and succeeds on valid objects.
    if let Ok(members) = object_members(input) {
        let mut failed = false;
        for member in members {
            match member {
                Ok((key, value)) => {
                    let _ = key.matches("sub");
                    let _ = value.string_eq("x");
                    let _ = value.as_f64();
                    if let Some(elements) = value.array_elements() {
                        assert!(elements.into_iter().all(|e| e.is_ok()));
                    }
                }
                Err(_) => failed = true,
            }
        }
        assert_eq!(failed, valid.is_err());
        let _ = check_unique_keys(input);
    }
}

#[test]
fn property_loop() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut input = Vec::new();
    for round in 0..30_000 {
        input.clear();
        gen_value(&mut rng, &mut input, 0);
        if round % 3 != 0 {
            mutate(&mut rng, &mut input);
        } else {
            assert_eq!(
                validate(&input),
                Ok(()),
                "{:?}",
                String::from_utf8_lossy(&input)
            );
        }
        check_input(&input);
    }
    // Pure noise over a JSON-ish alphabet.
    for _ in 0..20_000 {
        let len = rng.below(24);
        let bytes: Vec<u8> = (0..len)
            .map(|_| b"{}[]\",:\\u0123456789-.eE \ttruefalsnul\xc3\xa9\xff\x00"[rng.below(39)])
            .collect();
        check_input(&bytes);
    }
}

/// The escaping writer against a byte-at-a-time reference, with the bytes that need escaping
/// at every offset around the 8-byte steps of the scanner.
#[test]
fn serialize_escapes_at_every_position() {
    fn reference(s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }
    let specials = ['"', '\\', '\n', '\0', '\u{1f}', '\u{7f}', 'é', ' '];
    for len in 0..20 {
        for at in 0..len {
            for &c in &specials {
                for &d in &specials {
                    let s: String = (0..len)
                        .map(|i| match i {
                            i if i == at => c,
                            i if i == len - 1 => d,
                            _ => 'x',
                        })
                        .collect();
                    assert_eq!(ser(s.as_str()), reference(&s), "{s:?}");
                }
            }
        }
    }
    let all: String = (0u8..0x80).map(char::from).collect();
    assert_eq!(ser(all.as_str()), reference(&all));
}

/// The one-pass integer reader agrees with the full number scanner: it takes a token only
/// when the scanner reads the same token as a plain integer that fits `u64`, with the same end
/// and value; otherwise it declines (and the scanner decides).
#[test]
fn plain_u64_agrees_with_the_number_scanner() {
    let cases = [
        "0",
        "7",
        "10",
        "01",
        "00",
        "0.5",
        "1.",
        "1e3",
        "1E3",
        "12x",
        "-1",
        "-0",
        "",
        "x",
        "1700000000",
        "1700000000,",
        "1700000000}",
        "9999999999999999999",
        "10000000000000000000",
        "18446744073709551615",
        "18446744073709551616",
        "123456789012345678901234567890",
        "5 ",
        "5]",
    ];
    for case in cases {
        let input = case.as_bytes();
        let scanned = scan::scan_number(input, 0);
        match scan::plain_u64(input, 0) {
            Some((value, end)) => {
                let (s_end, integer) = scanned.expect(case);
                assert!(integer, "{case}");
                assert_eq!(end, s_end, "{case}");
                assert_eq!(Some(value), case[..end].parse::<u64>().ok(), "{case}");
                assert!(end <= 19, "{case}");
            }
            None => {
                // Declined: an error, a negative number, a float, a leading zero or a number
                // of more than 19 digits.
                if let Ok((end, integer)) = scanned {
                    let text = &case[..end];
                    assert!(
                        !integer
                            || text.starts_with('-')
                            || end > 19
                            || text.starts_with('0') && end > 1,
                        "{case}"
                    );
                }
            }
        }
    }
    // Through the deserializer, declined tokens give the same values as before.
    let big: (u64, i64, f64) = from_slice(b"[18446744073709551615,-5,1e3]", &mut arena())
        .unwrap()
        .0;
    assert_eq!(big, (u64::MAX, -5, 1000.0));
    let over = from_slice::<u64>(b"18446744073709551616", &mut arena());
    assert!(over.is_err());
}

/// The plain-text check agrees with a byte-by-byte reading for every byte at every offset.
#[test]
fn is_plain_text_matches_the_byte_rule() {
    use super::scan::is_plain_text as plain_text;
    let plain = |b: u8| b.is_ascii() && b >= 0x20 && b != b'"' && b != b'\\';
    for len in 1..20 {
        for at in 0..len {
            for b in 0..=255u8 {
                let mut text = vec![b'a'; len];
                text[at] = b;
                assert_eq!(plain_text(&text), plain(b), "{b} at {at} of {len}");
            }
        }
    }
    assert!(plain_text(b""));
}

/// The eight-digit step gives every eight-digit value and refuses any non-digit byte.
#[test]
fn plain_u64_eight_digits_at_once() {
    let mut next = crate::test_rng(5);
    for _ in 0..20_000 {
        let n = next(100_000_000);
        let text = format!("{n:08}");
        // Leading zeros are refused by JSON (plain_u64 declines them); read past a '1'.
        let padded = format!("1{text}");
        assert_eq!(
            scan::plain_u64(padded.as_bytes(), 0),
            Some((100_000_000 + n as u64, 9)),
            "{padded}"
        );
        let expected = if text.starts_with('0') {
            None
        } else {
            Some((n as u64, 8))
        };
        assert_eq!(scan::plain_u64(text.as_bytes(), 0), expected, "{text}");
    }
    for bad in [b'/', b':', b'.', b'e', b'-', b' ', 0x80, 0xb0, b'\0'] {
        for at in 0..8 {
            let mut t = *b"12345678";
            t[at] = bad;
            let expected_end = at;
            let got = scan::plain_u64(&t, 0);
            let scanned = &t[..expected_end];
            match got {
                Some((v, end)) => {
                    assert_eq!(end, expected_end, "{t:?}");
                    assert_eq!(
                        Some(v),
                        core::str::from_utf8(scanned)
                            .ok()
                            .and_then(|s| s.parse().ok())
                    );
                    assert!(!matches!(bad, b'.' | b'e'), "{t:?}");
                }
                None => assert!(at == 0 || matches!(bad, b'.' | b'e'), "{t:?}"),
            }
        }
    }
}

/// Every byte value, at every position of inputs that take each of the search's paths (the
/// 16-byte vector step, the 8-byte word, the byte loop): only the quote, the backslash and
/// the control characters stop it. The vector and word steps test the quote and the controls
/// with one compare after `^ 2`, so the bytes next to them (0x20, 0x21, 0x23) are the ones
/// that would show a wrong constant.
#[test]
fn find_special_stops_at_exactly_quote_backslash_and_controls() {
    for b in 0..=u8::MAX {
        let special = b == b'"' || b == b'\\' || b < 0x20;
        for len in [1, 7, 8, 15, 16, 24, 40] {
            for at in 0..len {
                let mut input = vec![b'a'; len];
                input[at] = b;
                let expected = if special { at } else { len };
                assert_eq!(
                    scan::find_special(&input, 0),
                    expected,
                    "{b:#04x} at {at} of {len}"
                );
            }
        }
    }
}

/// The string scanner's special-byte search (16, then 8, then 1 byte at a time) finds the
/// first quote, backslash or control character from every start, as a byte loop does.
#[test]
fn find_special_matches_a_byte_loop() {
    let mut next = crate::test_rng(9);
    let special = |b: u8| b == b'"' || b == b'\\' || b < 0x20;
    for len in 0..80 {
        for _ in 0..200 {
            let input: Vec<u8> = (0..len)
                .map(|_| match next(24) {
                    0 => b'"',
                    1 => b'\\',
                    2 => [
                        0x00, 0x02, 0x1f, 0x20, 0x21, 0x23, 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc,
                    ][next(12)],
                    _ => b"abcdefghijklmnopqrstuvwxyz"[next(26)],
                })
                .collect();
            let from = next(len + 1);
            let expected = input[from..]
                .iter()
                .position(|&b| special(b))
                .map_or(len, |k| from + k);
            assert_eq!(
                scan::find_special(&input, from),
                expected,
                "{input:?} from {from}"
            );
        }
    }
}

#[test]
fn debug_of_values_and_iterators_does_not_show_the_text() {
    let input = br#"{"refresh_token":"rt-secret","list":["at-secret"]}"#;
    let mut members = object_members(input).unwrap();
    let shown = format!("{members:?}");
    assert!(
        !shown.contains("rt-secret") && !shown.contains("114, 116"),
        "{shown}"
    );
    let (key, value) = members.next().unwrap().unwrap();
    assert_eq!(key.as_str(), Some("refresh_token"));
    let shown = format!("{value:?}");
    assert!(
        !shown.contains("rt-secret") && !shown.contains("114, 116"),
        "{shown}"
    );
    assert!(shown.contains("String"), "{shown}");
    let (_, list) = members.next().unwrap().unwrap();
    let elements = list.array_elements().unwrap();
    let shown = format!("{elements:?} {members:?}");
    assert!(
        !shown.contains("at-secret") && !shown.contains("97, 116"),
        "{shown}"
    );
}

/// Serializes as `depth + 1` nested arrays (`[[...[]...]]`). Used by the encoders' depth
/// tests (`jws`, `jwe`).
pub(crate) struct NestArrays(pub(crate) usize);

impl Serialize for NestArrays {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(1))?;
        if self.0 > 0 {
            seq.serialize_element(&NestArrays(self.0 - 1))?;
        }
        seq.end()
    }
}

/// `NestArrays(n)` is `n + 1` levels deep.
#[test]
fn nest_arrays_is_one_level_more_than_its_count() {
    assert_eq!(serialized_len_measured(&NestArrays(0)).unwrap(), (2, 1));
    assert_eq!(serialized_len_measured(&NestArrays(2)).unwrap(), (6, 3));
}

/// Serializes as `depth` arrays around a byte array (`serialize_bytes`). Also used by the
/// session codecs' tests.
pub(crate) struct NestBytes(pub(crate) usize);

impl Serialize for NestBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        if self.0 == 0 {
            return s.serialize_bytes(&[1, 2]);
        }
        let mut seq = s.serialize_seq(Some(1))?;
        seq.serialize_element(&NestBytes(self.0 - 1))?;
        seq.end()
    }
}

/// A byte array is one level of nesting for the measured serializers, as it is for the
/// parser (the session codecs compare that figure with `MAX_DEPTH`).
#[test]
fn measured_depth_counts_byte_arrays() {
    let mut out = [0u8; 64];
    let (n, depth) = to_slice_measured(&NestBytes(0), &mut out).unwrap();
    assert_eq!((&out[..n], depth), (&b"[1,2]"[..], 1));
    assert_eq!(serialized_len_measured(&NestBytes(0)).unwrap(), (5, 1));
    assert_eq!(serialized_len_measured(&NestBytes(3)).unwrap(), (11, 4));
}

/// 128-bit integer map keys read back what the serializer writes (and what `serde_json`
/// reads), at the edges of both types.
#[test]
fn map_keys_of_128_bits_round_trip() {
    use std::collections::BTreeMap;
    let signed: BTreeMap<i128, u8> = [(i128::MIN, 1u8), (-1, 2), (0, 3), (i128::MAX, 4)]
        .into_iter()
        .collect();
    let unsigned: BTreeMap<u128, u8> = [(0u128, 1u8), (u128::MAX, 2)].into_iter().collect();
    let mut out = [0u8; 256];
    let n = to_slice(&signed, &mut out).unwrap();
    let sj: BTreeMap<i128, u8> = serde_json::from_slice(&out[..n]).unwrap();
    assert_eq!(sj, signed);
    let back: (BTreeMap<i128, u8>, usize) = from_slice(&out[..n], &mut []).unwrap();
    assert_eq!(back.0, signed);
    let n = to_slice(&unsigned, &mut out).unwrap();
    let back: (BTreeMap<u128, u8>, usize) = from_slice(&out[..n], &mut []).unwrap();
    assert_eq!(back.0, unsigned);
    // Out of range, fractions and non-numbers are mismatches.
    for bad in [
        &br#"{"340282366920938463463374607431768211456":1}"#[..],
        br#"{"1.5":1}"#,
        br#"{"x":1}"#,
    ] {
        assert!(matches!(
            from_slice::<BTreeMap<u128, u8>>(bad, &mut []),
            Err(Error::Mismatch { .. })
        ));
    }
}

/// `validate` reports the first problem in document order: bytes that are not UTF-8 come
/// before a later control character, bad escape or end of input in the same string.
#[test]
fn the_first_problem_in_document_order_is_reported() {
    for (input, error) in [
        (&b"[\"\xff\x01\"]"[..], Error::InvalidUtf8 { offset: 2 }),
        (b"[\"\xff\\q\"]", Error::InvalidUtf8 { offset: 2 }),
        (b"[\"\xff", Error::InvalidUtf8 { offset: 2 }),
        (b"[\"a\xc3\x01\"]", Error::InvalidUtf8 { offset: 3 }),
        // A sequence the end cuts short is the end, not bad UTF-8.
        (b"[\"a\xc3", Error::UnexpectedEnd),
        // The other way round: the control character comes first.
        (b"[\"\x01\xff\"]", Error::ControlCharacter { offset: 2 }),
    ] {
        assert_eq!(validate(input), Err(error), "{input:?}");
        assert_eq!(
            from_slice::<IgnoredAny>(input, &mut arena()).map(|_| ()),
            Err(error),
            "{input:?}"
        );
    }
}

/// The deserializer's own depth limit: a type that opens arrays as deep as the input goes
/// (not through `IgnoredAny`, whose skip has its own budget) gets `TooDeep` at the 65th
/// level, and reads 64.
#[test]
fn a_recursive_type_is_held_to_the_depth_limit() {
    struct Nest(usize);
    impl<'de> Deserialize<'de> for Nest {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Nest;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("nested arrays")
                }
                fn visit_seq<A: serde::de::SeqAccess<'de>>(
                    self,
                    mut a: A,
                ) -> Result<Nest, A::Error> {
                    let mut depth = 1;
                    while let Some(Nest(inner)) = a.next_element::<Nest>()? {
                        depth = depth.max(inner + 1);
                    }
                    Ok(Nest(depth))
                }
            }
            d.deserialize_seq(V)
        }
    }
    let arrays = |n: usize| [vec![b'['; n], vec![b']'; n]].concat();
    let ok = arrays(MAX_DEPTH);
    assert_eq!(
        from_slice::<Nest>(&ok, &mut arena()).map(|(n, _)| n.0),
        Ok(MAX_DEPTH)
    );
    let deep = arrays(MAX_DEPTH + 1);
    assert_eq!(
        from_slice::<Nest>(&deep, &mut arena()).map(|(n, _)| n.0),
        Err(Error::TooDeep { offset: MAX_DEPTH })
    );
}
