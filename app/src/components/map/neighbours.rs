//! Keyboard navigation on the map: the unit an arrow key moves to from the focused one.

/// An arrow key's direction on the map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Left,
    Right,
    Up,
    Down,
}

impl Direction {
    pub fn from_key(key: &str) -> Option<Direction> {
        match key {
            "ArrowLeft" => Some(Direction::Left),
            "ArrowRight" => Some(Direction::Right),
            "ArrowUp" => Some(Direction::Up),
            "ArrowDown" => Some(Direction::Down),
            _ => None,
        }
    }
}

/// The unit an arrow key moves to from `from`: the nearest label lying in that direction,
/// sideways distance counting double so that the move follows the arrow.
pub fn neighbour(points: &[(f64, f64)], from: usize, direction: Direction) -> Option<usize> {
    let (x0, y0) = *points.get(from)?;
    points
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != from)
        .filter_map(|(j, &(x, y))| {
            let (ahead, aside) = match direction {
                Direction::Right => (x - x0, y - y0),
                Direction::Left => (x0 - x, y - y0),
                Direction::Down => (y - y0, x - x0),
                Direction::Up => (y0 - y, x - x0),
            };
            (ahead > 0.5 && aside.abs() <= ahead * 2.0).then_some((j, ahead + 2.0 * aside.abs()))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(j, _)| j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrow_keys_move_to_the_nearest_unit_in_that_direction() {
        //   0 (0,0)     1 (10,1)    2 (20,0)
        //               3 (10,10)
        let points = [(0.0, 0.0), (10.0, 1.0), (20.0, 0.0), (10.0, 10.0)];
        assert_eq!(neighbour(&points, 0, Direction::Right), Some(1));
        assert_eq!(neighbour(&points, 1, Direction::Right), Some(2));
        assert_eq!(neighbour(&points, 2, Direction::Right), None);
        assert_eq!(neighbour(&points, 2, Direction::Left), Some(1));
        assert_eq!(neighbour(&points, 1, Direction::Down), Some(3));
        assert_eq!(neighbour(&points, 3, Direction::Up), Some(1));
        assert_eq!(neighbour(&points, 0, Direction::Up), None);
        assert_eq!(Direction::from_key("ArrowLeft"), Some(Direction::Left));
        assert_eq!(Direction::from_key("Enter"), None);
    }
}
