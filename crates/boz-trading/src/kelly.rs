//! Growth-optimal stakes for bets on one event's mutually exclusive outcomes.
//!
//! Maximises Σₒ πₒ · ln(1 + Σᵢ xᵢ (wᵢ(o)/cᵢ − 1)) over xᵢ ≥ 0 (xᵢ: the fraction of the bankroll
//! spent on bet i at all-in cost cᵢ per contract; wᵢ(o) = 1 if bet i pays in outcome o), the
//! general form that covers YES and NO bets together (a NO is a YES on every other bracket). The
//! problem is concave; projected gradient ascent with backtracking solves it to 1e-12. With only
//! YES bets it equals the Smoczynski–Tomkins closed form; with one bet, (q − c)/(1 − c).

/// One bet: its all-in cost per contract and the outcomes it wins in.
#[derive(Debug, Clone, PartialEq)]
pub struct Bet {
    pub cost: f64,
    pub wins: Vec<bool>,
}

fn wealth(probs: &[f64], bets: &[Bet], x: &[f64]) -> Option<f64> {
    let mut growth = 0.0;
    for (o, p) in probs.iter().enumerate() {
        let w: f64 = 1.0
            + bets
                .iter()
                .zip(x)
                .map(|(b, xi)| xi * (if b.wins[o] { 1.0 / b.cost } else { 0.0 } - 1.0))
                .sum::<f64>();
        if w <= 0.0 {
            return None;
        }
        if *p > 0.0 {
            growth += p * w.ln();
        }
    }
    Some(growth)
}

/// Projects onto {x ≥ 0, Σx ≤ cap}.
fn project(x: &mut [f64], cap: f64) {
    for v in x.iter_mut() {
        *v = v.max(0.0);
    }
    let s: f64 = x.iter().sum();
    if s <= cap {
        return;
    }
    // Euclidean projection onto the scaled simplex {x ≥ 0, Σx = cap}
    let mut u: Vec<f64> = x.to_vec();
    u.sort_by(|a, b| b.total_cmp(a));
    let (mut acc, mut theta) = (0.0, 0.0);
    for (i, ui) in u.iter().enumerate() {
        acc += ui;
        let t = (acc - cap) / (i + 1) as f64;
        if ui - t > 0.0 {
            theta = t;
        }
    }
    for v in x.iter_mut() {
        *v = (*v - theta).max(0.0);
    }
}

/// The fraction of the bankroll to spend on each bet (zero for a bet with no edge).
pub fn allocate(probs: &[f64], bets: &[Bet]) -> Vec<f64> {
    let n = bets.len();
    let mut x = vec![0.0; n];
    if n == 0
        || bets
            .iter()
            .any(|b| !(b.cost > 0.0 && b.cost < 1.0) || b.wins.len() != probs.len())
    {
        return x;
    }
    let cap = 0.999;
    let mut f = wealth(probs, bets, &x).unwrap_or(0.0);
    let mut step = 1.0;
    for _ in 0..20_000 {
        // gradient
        let mut g = vec![0.0; n];
        for (o, p) in probs.iter().enumerate() {
            let r: Vec<f64> = bets
                .iter()
                .map(|b| if b.wins[o] { 1.0 / b.cost } else { 0.0 } - 1.0)
                .collect();
            let w: f64 = 1.0 + r.iter().zip(&x).map(|(ri, xi)| ri * xi).sum::<f64>();
            for i in 0..n {
                g[i] += p * r[i] / w;
            }
        }
        let mut moved = false;
        while step > 1e-14 {
            let mut y: Vec<f64> = x.iter().zip(&g).map(|(xi, gi)| xi + step * gi).collect();
            project(&mut y, cap);
            match wealth(probs, bets, &y) {
                Some(fy) if fy > f + 1e-15 => {
                    let delta: f64 = y.iter().zip(&x).map(|(a, b)| (a - b).abs()).sum();
                    x = y;
                    f = fy;
                    moved = delta > 1e-13;
                    step *= 1.5;
                    break;
                }
                _ => step /= 2.0,
            }
        }
        if !moved {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Smoczynski & Tomkins (2010): the closed form for YES bets on exclusive outcomes.
    fn smoczynski_tomkins(q: &[f64], c: &[f64]) -> Vec<f64> {
        let mut order: Vec<usize> = (0..q.len()).collect();
        order.sort_by(|a, b| (q[*b] / c[*b]).total_cmp(&(q[*a] / c[*a])));
        let (mut r, mut sq, mut sc) = (1.0, 0.0, 0.0);
        let mut chosen = Vec::new();
        for k in order {
            if q[k] / c[k] > r {
                chosen.push(k);
                sq += q[k];
                sc += c[k];
                r = (1.0 - sq) / (1.0 - sc);
            } else {
                break;
            }
        }
        (0..q.len())
            .map(|k| {
                if chosen.contains(&k) {
                    q[k] - r * c[k]
                } else {
                    0.0
                }
            })
            .collect()
    }

    fn yes_bets(c: &[f64]) -> Vec<Bet> {
        (0..c.len())
            .map(|k| Bet {
                cost: c[k],
                wins: (0..c.len()).map(|o| o == k).collect(),
            })
            .collect()
    }

    #[test]
    fn one_bet_is_the_textbook_kelly() {
        let x = allocate(&[0.36, 0.64], &yes_bets(&[0.3147, 0.75])[..1]);
        let want = (0.36 - 0.3147) / (1.0 - 0.3147);
        assert!((x[0] - want).abs() < 1e-6, "{x:?} vs {want}");
        // no edge, no bet
        assert_eq!(
            allocate(&[0.3, 0.7], &yes_bets(&[0.31, 0.75])[..1]),
            vec![0.0]
        );
    }

    #[test]
    fn several_brackets_match_the_closed_form() {
        let q = [0.10, 0.21, 0.30, 0.24, 0.11, 0.04];
        let c = [0.08, 0.18, 0.33, 0.22, 0.14, 0.07]; // overround: the costs sum to 1.02
        let x = allocate(&q, &yes_bets(&c));
        let want = smoczynski_tomkins(&q, &c);
        for (a, b) in x.iter().zip(&want) {
            assert!((a - b).abs() < 1e-4, "{x:?} vs {want:?}");
        }
        // the worst-priced bracket gets nothing; a slightly overpriced one is kept as a hedge
        assert!(x[5] < 1e-9, "{x:?}");
        assert!(x[0] > 0.0 && x[1] > 0.0, "{x:?}");
    }

    #[test]
    fn a_no_bet_is_sized_with_the_rest() {
        // NO on bracket 2 (which wins 70 % of the time) at 0.60
        let q = [0.3, 0.3, 0.4];
        let no = Bet {
            cost: 0.60,
            wins: vec![true, true, false],
        };
        let x = allocate(&q, &[no]);
        let want = (0.6 - 0.60f64).max(0.0); // no edge: (0.6 - 0.6)/(0.4)
        assert!((x[0] - want).abs() < 1e-9);
        let no = Bet {
            cost: 0.50,
            wins: vec![true, true, false],
        };
        let x = allocate(&q, &[no]);
        assert!((x[0] - (0.6 - 0.5) / 0.5).abs() < 1e-6, "{x:?}");
    }
}
