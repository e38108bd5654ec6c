//! SQL text shared by the store's queries: the placeholder lists of multi-row statements.

/// `($1, $2), ($3, $4)` for two rows of two columns.
pub(crate) fn placeholders(rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push('$');
            sql.push_str(&(row * columns + column + 1).to_string());
        }
        sql.push(')');
    }
    sql
}

/// `$2, $3, $4` for a list of three parameters numbered from two.
pub(crate) fn list(first: usize, len: usize) -> String {
    (first..first + len)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }

    #[test]
    fn lists_number_from_the_first() {
        assert_eq!(list(1, 3), "$1, $2, $3");
        assert_eq!(list(2, 2), "$2, $3");
        assert_eq!(list(1, 0), "");
    }
}
