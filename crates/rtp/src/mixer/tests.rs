//! Mixer correctness: each party hears exactly the others, never itself; joins and leaves take
//! effect at the next tick; loud sums saturate; silence is contributed by parties that sent nothing.

use std::f64::consts::PI;

use proptest::prelude::*;

use super::*;

fn constant(v: i16) -> LinearFrame {
    [v; FRAME_SAMPLES]
}

fn sine(hz: f64, amplitude: f64, phase: usize) -> LinearFrame {
    let mut f = [0i16; FRAME_SAMPLES];
    for (i, s) in f.iter_mut().enumerate() {
        let t = (phase + i) as f64 / 8000.0;
        *s = (amplitude * (2.0 * PI * hz * t).sin()).round() as i16;
    }
    f
}

/// Goertzel power at `hz` over `x`, normalized so amplitude A gives about A²/4.
fn power(x: &[i16], hz: f64) -> f64 {
    let coeff = 2.0 * (2.0 * PI * hz / 8000.0).cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &v in x {
        let s = f64::from(v) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let n = x.len() as f64;
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (n * n)
}

#[test]
fn each_party_hears_exactly_everyone_but_itself() {
    let mut m = Mixer::default();
    let levels = [100i16, 1_000, 3_000, -2_500, 7];
    for (id, _) in levels.iter().enumerate() {
        let law = if id % 2 == 0 { Law::Ulaw } else { Law::Alaw };
        m.join(id, law).unwrap();
    }
    for (id, &v) in levels.iter().enumerate() {
        m.put_linear(id, &constant(v)).unwrap();
    }
    m.mix();
    let total: i32 = levels.iter().map(|&v| i32::from(v)).sum();
    for (id, &v) in levels.iter().enumerate() {
        let expect = (total - i32::from(v)) as i16;
        assert_eq!(
            m.output_linear(id).unwrap(),
            &constant(expect),
            "party {id}"
        );
        let law = if id % 2 == 0 { Law::Ulaw } else { Law::Alaw };
        assert_eq!(m.output(id).unwrap(), &[law.encode(expect); FRAME_SAMPLES]);
    }
}

#[test]
fn each_party_hears_the_others_tones_and_not_its_own() {
    let tones = [(0u8, 500.0), (1, 1000.0), (2, 1500.0)];
    let mut m = Mixer::default();
    for &(id, _) in &tones {
        m.join(id, Law::Ulaw).unwrap();
    }
    let mut heard: Vec<Vec<i16>> = vec![Vec::new(); tones.len()];
    for tick in 0..10 {
        for &(id, hz) in &tones {
            // Through G.711, as the legs deliver it.
            let mut payload = Vec::new();
            crate::g711::encode_frame(Law::Ulaw, &sine(hz, 8000.0, tick * 160), &mut payload);
            m.put_g711(id, &payload).unwrap();
        }
        m.mix();
        for &(id, _) in &tones {
            let out = m.output(id).unwrap();
            heard[usize::from(id)].extend(out.iter().map(|&c| Law::Ulaw.decode(c)));
        }
    }
    for &(id, own) in &tones {
        let x = &heard[usize::from(id)];
        let mine = power(x, own);
        for &(other, hz) in &tones {
            if other != id {
                let theirs = power(x, hz);
                assert!(
                    theirs > 8000.0 * 8000.0 / 4.0 * 0.9,
                    "{id} hears {other} weakly"
                );
                assert!(mine < theirs * 1e-3, "{id} hears itself at {own} Hz");
            }
        }
    }
}

#[test]
fn joining_and_leaving_take_effect_at_the_next_tick() {
    let mut m = Mixer::new(4);
    m.join('a', Law::Ulaw).unwrap();
    m.join('b', Law::Ulaw).unwrap();
    assert_eq!(m.join('a', Law::Alaw), Err(MixError::AlreadyJoined));
    m.put_linear('a', &constant(1000)).unwrap();
    m.put_linear('b', &constant(2000)).unwrap();
    m.mix();
    assert_eq!(m.output_linear('a').unwrap()[0], 2000);
    // c joins: silent until the next mix, then hears both and is heard.
    m.join('c', Law::Alaw).unwrap();
    assert_eq!(m.output_linear('c').unwrap(), &SILENT_LINEAR);
    assert_eq!(
        m.output('c').unwrap(),
        &[Law::Alaw.silence(); FRAME_SAMPLES]
    );
    for (id, v) in [('a', 1000), ('b', 2000), ('c', 4000)] {
        m.put_linear(id, &constant(v)).unwrap();
    }
    m.mix();
    assert_eq!(m.output_linear('a').unwrap()[0], 6000);
    assert_eq!(m.output_linear('c').unwrap()[0], 3000);
    // b leaves.
    assert!(m.leave('b'));
    assert!(!m.leave('b'));
    assert_eq!(m.put_linear('b', &constant(1)), Err(MixError::NotJoined));
    assert!(m.output('b').is_none());
    for (id, v) in [('a', 1000), ('c', 4000)] {
        m.put_linear(id, &constant(v)).unwrap();
    }
    m.mix();
    assert_eq!(m.output_linear('a').unwrap()[0], 4000);
    assert_eq!(m.output_linear('c').unwrap()[0], 1000);
    assert_eq!(m.parties().collect::<Vec<_>>(), ['a', 'c']);
    // Capacity.
    m.join('d', Law::Ulaw).unwrap();
    m.join('e', Law::Ulaw).unwrap();
    assert_eq!(m.join('f', Law::Ulaw), Err(MixError::Full { max: 4 }));
    // Alone in the room: silence.
    for id in ['a', 'd', 'e'] {
        m.leave(id);
    }
    m.put_linear('c', &constant(4000)).unwrap();
    m.mix();
    assert_eq!(m.output_linear('c').unwrap(), &SILENT_LINEAR);
}

#[test]
fn loud_sums_saturate_instead_of_wrapping() {
    let mut m = Mixer::default();
    for id in 0..4 {
        m.join(id, Law::Alaw).unwrap();
    }
    for id in 0..3 {
        m.put_linear(id, &constant(30_000)).unwrap();
    }
    m.put_linear(3, &constant(-30_000)).unwrap();
    m.mix();
    // 3 hears 90,000: clamped to the top, not wrapped negative.
    assert_eq!(m.output_linear(3).unwrap()[0], i16::MAX);
    assert_eq!(m.output(3).unwrap()[0], Law::Alaw.encode(i16::MAX));
    // 0 hears 30,000 + 30,000 − 30,000 exactly: the clamp comes after the sum.
    assert_eq!(m.output_linear(0).unwrap()[0], 30_000);
    for id in 0..4 {
        m.put_linear(id, &constant(-32_768)).unwrap();
    }
    m.mix();
    assert_eq!(m.output_linear(0).unwrap()[0], i16::MIN);
}

#[test]
fn a_party_that_sent_nothing_contributes_silence() {
    let mut m = Mixer::default();
    for id in 0..3 {
        m.join(id, Law::Ulaw).unwrap();
    }
    m.put_linear(0, &constant(500)).unwrap();
    m.put_linear(1, &constant(700)).unwrap();
    m.mix();
    assert_eq!(m.output_linear(2).unwrap()[0], 1200);
    assert_eq!(m.output_linear(0).unwrap()[0], 700);
    // Next tick only 1 sent: 0's old frame is not replayed.
    m.put_linear(1, &constant(700)).unwrap();
    m.mix();
    assert_eq!(m.output_linear(2).unwrap()[0], 700);
    assert_eq!(m.output_linear(1).unwrap(), &SILENT_LINEAR);
    // Nobody sent: everyone hears silence.
    m.mix();
    for id in 0..3 {
        assert_eq!(m.output_linear(id).unwrap(), &SILENT_LINEAR);
    }
    // A wrong-size payload is refused, not truncated or padded.
    assert_eq!(
        m.put_g711(0, &[0xFF; 240]),
        Err(MixError::FrameLength { bytes: 240 })
    );
    assert_eq!(m.put_g711(0, &[]), Err(MixError::FrameLength { bytes: 0 }));
}

proptest! {
    /// Against the definition, for random parties, inputs and silences.
    #[test]
    fn matches_the_definition(
        inputs in proptest::collection::vec(
            proptest::option::of(proptest::collection::vec(any::<i16>(), FRAME_SAMPLES)),
            1..12,
        )
    ) {
        let mut m = Mixer::default();
        for (id, input) in inputs.iter().enumerate() {
            m.join(id, Law::Ulaw).unwrap();
            if let Some(frame) = input {
                let frame: LinearFrame = frame.as_slice().try_into().unwrap();
                m.put_linear(id, &frame).unwrap();
            }
        }
        m.mix();
        for id in 0..inputs.len() {
            let heard = m.output_linear(id).unwrap();
            for (i, &h) in heard.iter().enumerate() {
                let others: i64 = inputs
                    .iter()
                    .enumerate()
                    .filter(|&(other, _)| other != id)
                    .filter_map(|(_, input)| input.as_ref().map(|f| i64::from(f[i])))
                    .sum();
                let expect = others.clamp(i64::from(i16::MIN), i64::from(i16::MAX)) as i16;
                prop_assert_eq!(h, expect);
                prop_assert_eq!(m.output(id).unwrap()[i], Law::Ulaw.encode(expect));
            }
        }
    }
}
