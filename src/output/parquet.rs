//! `--format parquet`: the tables of a run or a sweep (`summary`,
//! `replications`, `diagnosis`, `agents`) as Parquet files, zstd-compressed,
//! with the CSV's columns and types, and read back into CSV text for
//! `report` and `compare`.
//!
//! The CSV writers of [`super::csv`] stay the one place that decides each
//! row: a [`ParquetSink`] takes their bytes (it is an `io::Write`), splits
//! them into lines and fields, and writes the fields as typed columns. So a
//! Parquet file holds exactly the CSV's values: integers as INT64, numbers
//! as DOUBLE (a CSV number is Rust's shortest round-trip text of the
//! `f64`, so it parses back to the same bits), text as UTF8 strings, and an
//! empty CSV cell as a null. The type of a column comes from its name
//! ([`column_kind`]); a sweep's parameter columns, which have no fixed name,
//! take the type their values have (see [`kind_of_values`]).
//!
//! One exception, for speed: a run's `replications`, by far the largest
//! table, goes into the sink's columns straight from the values
//! ([`ReplicationsParquet`]), the same file without the text in between
//! (a test holds the two to the same bytes). Each row group's column
//! chunks are encoded into buffers of their own and appended in order;
//! after a run's simulation, several groups are encoded at once in the
//! background while the next are filled.
//!
//! The bytes are deterministic: rows are grouped by count
//! ([`ROW_GROUP_ROWS`]), never by time or thread, and the file records
//! `created_by = vomsim` and no timestamp.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use ::parquet::basic::{Compression, LogicalType, Repetition, Type as Physical, ZstdLevel};
use ::parquet::column::writer::{
    ColumnCloseResult, get_column_writer, get_typed_column_writer_mut,
};
use ::parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use ::parquet::file::properties::{WriterProperties, WriterPropertiesPtr};
use ::parquet::file::reader::{FileReader, SerializedFileReader};
use ::parquet::file::writer::{SerializedFileWriter, SerializedPageWriter, TrackedWrite};
use ::parquet::record::Field;
use ::parquet::schema::types::{ColumnDescPtr, Type};

/// The output formats of `run` and `sweep` (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Comma-separated text, the default.
    #[default]
    Csv,
    /// Apache Parquet, zstd-compressed.
    Parquet,
}

impl Format {
    /// The file name of table `table` (`summary`, `replications`, ...) in
    /// this format.
    pub fn file(self, table: &str) -> String {
        match self {
            Format::Csv => format!("{table}.csv"),
            Format::Parquet => format!("{table}.parquet"),
        }
    }
}

/// Rows per row group: a fixed count, so the bytes do not depend on how
/// the CSV writer chunked its output or on the threads.
pub const ROW_GROUP_ROWS: usize = 1 << 18;

/// Row groups encoded at once in the background at most, whatever the
/// threads: each holds its columns (about 28 MB for `replications`) until
/// it is appended, so this bounds what encoding adds to memory.
const GROUPS_AT_ONCE: usize = 4;

/// The type of a column, as a reader of the CSV would take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Whole numbers: INT64.
    Integer,
    /// Numbers: DOUBLE.
    Number,
    /// Text: UTF8 strings.
    Text,
}

/// The type of a column of vomsim's tables by its name; `None` for a
/// sweep's parameter columns.
pub fn column_kind(name: &str) -> Option<Kind> {
    Some(match name {
        "point" | "rep" | "month" | "reps" | "id" | "intake_month" | "age" | "prior_arrests"
        | "offender_consent" | "victim_consent" | "agreement" | "apology" | "payment_completed"
        | "service_completed" | "event" | "event0" | "event1" | "reconviction_event" => {
            Kind::Integer
        }
        "metric" | "group" | "estimator" | "sex" | "race" | "offense" | "victim_type"
        | "mediation_mode" => Kind::Text,
        "mean"
        | "sd"
        | "q025"
        | "q500"
        | "q975"
        | "value"
        | "estimand"
        | "bias"
        | "rmse"
        | "coverage"
        | "power"
        | "median"
        | "log_bias"
        | "log_rmse"
        | "undefined"
        | "referral_day"
        | "risk"
        | "motivation"
        | "wait_days"
        | "disposition_day"
        | "amount_dollars"
        | "paid_dollars"
        | "service_hours"
        | "service_hours_done"
        | "time_months"
        | "t0_months"
        | "t1_months"
        | "reconviction_time_months" => Kind::Number,
        _ => return None,
    })
}

/// The type that every one of `values` (CSV cells) fits: whole numbers,
/// numbers, or else text.
pub fn kind_of_values<'a>(values: impl IntoIterator<Item = &'a str>) -> Kind {
    let filled: Vec<&str> = values.into_iter().filter(|v| !v.is_empty()).collect();
    if filled.iter().all(|v| v.parse::<i64>().is_ok()) {
        Kind::Integer
    } else if filled.iter().all(|v| v.parse::<f64>().is_ok()) {
        Kind::Number
    } else {
        Kind::Text
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn parquet_error(e: ::parquet::errors::ParquetError) -> io::Error {
    io::Error::other(e.to_string())
}

/// One column's values of the current row group.
enum Values {
    Integer(Vec<i64>),
    Number(Vec<f64>),
    Text(Vec<ByteArray>),
}

struct Column {
    name: String,
    values: Values,
    /// Definition levels: 1 for a value, 0 for a null (an empty cell).
    levels: Vec<i16>,
}

impl Column {
    /// A CSV cell in this column's type: an empty cell is a null.
    fn parse(&self, cell: &str) -> io::Result<Typed> {
        if cell.is_empty() {
            return Ok(Typed::Null);
        }
        let typed = match self.values {
            Values::Integer(_) => cell.parse().ok().map(Typed::Integer),
            Values::Number(_) => cell.parse().ok().map(Typed::Number),
            Values::Text(_) => Some(Typed::Text(ByteArray::from(cell))),
        };
        typed.ok_or_else(|| {
            invalid(format!(
                "{cell:?} in column {} is not of its type",
                self.name
            ))
        })
    }

    /// The same column without values (for another row group).
    fn empty_like(&self) -> Column {
        Column {
            name: self.name.clone(),
            values: match self.values {
                Values::Integer(_) => Values::Integer(Vec::new()),
                Values::Number(_) => Values::Number(Vec::new()),
                Values::Text(_) => Values::Text(Vec::new()),
            },
            levels: Vec::new(),
        }
    }

    /// Drops the values, keeping the room they took.
    fn clear(&mut self) {
        match &mut self.values {
            Values::Integer(v) => v.clear(),
            Values::Number(v) => v.clear(),
            Values::Text(v) => v.clear(),
        }
        self.levels.clear();
    }

    /// Adds a cell of this column's type (or a null).
    fn push(&mut self, cell: Typed) -> io::Result<()> {
        match (&mut self.values, cell) {
            (_, Typed::Null) => {
                self.levels.push(0);
                return Ok(());
            }
            (Values::Integer(v), Typed::Integer(x)) => v.push(x),
            (Values::Number(v), Typed::Number(x)) => v.push(x),
            (Values::Text(v), Typed::Text(x)) => v.push(x),
            (_, other) => {
                return Err(invalid(format!(
                    "{other:?} given for column {}, of another type",
                    self.name
                )));
            }
        }
        self.levels.push(1);
        Ok(())
    }
}

/// A cell as its column holds it.
#[derive(Debug, Clone)]
enum Typed {
    Integer(i64),
    Number(f64),
    Text(ByteArray),
    Null,
}

/// A column chunk encoded on its own: its bytes, and what the row group
/// needs to append them.
type EncodedChunk = (bytes::Bytes, ColumnCloseResult);

/// A row group encoded in the background: its chunks, and its columns
/// emptied for reuse.
type EncodedGroup = (Vec<io::Result<EncodedChunk>>, Vec<Column>);

/// Encodes one column's values of a row group as a column chunk, into a
/// buffer of its own (offsets from 0, moved when the chunk is appended).
fn encode_chunk(
    descr: ColumnDescPtr,
    properties: WriterPropertiesPtr,
    column: &Column,
) -> io::Result<EncodedChunk> {
    let mut buffer = TrackedWrite::new(Vec::new());
    let mut writer = get_column_writer(
        descr,
        properties,
        Box::new(SerializedPageWriter::new(&mut buffer)),
    );
    let levels = Some(column.levels.as_slice());
    match &column.values {
        Values::Integer(v) => {
            get_typed_column_writer_mut::<Int64Type>(&mut writer).write_batch(v, levels, None)
        }
        Values::Number(v) => {
            get_typed_column_writer_mut::<DoubleType>(&mut writer).write_batch(v, levels, None)
        }
        Values::Text(v) => {
            get_typed_column_writer_mut::<ByteArrayType>(&mut writer).write_batch(v, levels, None)
        }
    }
    .map_err(parquet_error)?;
    let close = writer.close().map_err(parquet_error)?;
    let bytes = buffer.into_inner().map_err(parquet_error)?;
    Ok((bytes::Bytes::from(bytes), close))
}

/// Encodes a row group's column chunks, in the schema's order.
fn encode_group(
    descriptors: &[ColumnDescPtr],
    properties: &WriterPropertiesPtr,
    columns: &[Column],
) -> Vec<io::Result<EncodedChunk>> {
    if descriptors.len() != columns.len() {
        return vec![Err(invalid("the schema lost a column".to_string()))];
    }
    descriptors
        .iter()
        .zip(columns)
        .map(|(descriptor, column)| encode_chunk(descriptor.clone(), properties.clone(), column))
        .collect()
}

/// An `io::Write` that takes a CSV table (header first) and writes it as a
/// Parquet file to `W`. Call [`ParquetSink::finish`] at the end.
pub struct ParquetSink<W: Write + Send> {
    out: Option<W>,
    writer: Option<SerializedFileWriter<W>>,
    /// Types of columns [`column_kind`] does not know (a sweep's parameters).
    extra: Vec<(String, Kind)>,
    columns: Vec<Column>,
    pending: Vec<u8>,
    rows: usize,
    line: usize,
    /// Row groups that may be encoded at once, in the background when more
    /// than one ([`ParquetSink::set_threads`]; 1 unless set).
    threads: usize,
    /// The row groups being encoded in the background, oldest first, each
    /// with its columns to reuse ([`ParquetSink::flush_group`]).
    encoding: std::collections::VecDeque<std::thread::JoinHandle<EncodedGroup>>,
    /// Emptied columns of groups written before, for the next groups (their
    /// room reused rather than faulted in again).
    spare: Vec<Vec<Column>>,
    /// Tests: write each row group through its own column writers, as
    /// before the chunks were encoded apart (the file to match).
    #[cfg(test)]
    column_by_column: bool,
}

impl<W: Write + Send> ParquetSink<W> {
    /// A sink writing to `out`; `extra` types the columns whose names
    /// [`column_kind`] does not know.
    pub fn new(out: W, extra: Vec<(String, Kind)>) -> Self {
        ParquetSink {
            out: Some(out),
            writer: None,
            extra,
            columns: Vec::new(),
            pending: Vec::new(),
            rows: 0,
            line: 0,
            threads: 1,
            encoding: std::collections::VecDeque::new(),
            spare: Vec::new(),
            #[cfg(test)]
            column_by_column: false,
        }
    }

    /// Lets up to `threads` row groups (at most four) from here on be
    /// encoded at once in the background while the next ones are filled
    /// (the file is the same for any number, set at any point). For a
    /// table written after the simulation, when its threads are free; a
    /// table written while the simulation runs keeps to one, on the thread
    /// that fills it.
    fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }

    fn header(&mut self, line: &str) -> io::Result<()> {
        let mut fields = Vec::new();
        for name in line.split(',') {
            let kind = column_kind(name)
                .or_else(|| self.extra.iter().find(|(n, _)| n == name).map(|(_, k)| *k))
                .ok_or_else(|| invalid(format!("no Parquet type for column {name:?}")))?;
            let (physical, logical) = match kind {
                Kind::Integer => (Physical::INT64, None),
                Kind::Number => (Physical::DOUBLE, None),
                Kind::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
            };
            let field = Type::primitive_type_builder(name, physical)
                .with_repetition(Repetition::OPTIONAL)
                .with_logical_type(logical)
                .build()
                .map_err(parquet_error)?;
            fields.push(Arc::new(field));
            self.columns.push(Column {
                name: name.to_string(),
                values: match kind {
                    Kind::Integer => Values::Integer(Vec::new()),
                    Kind::Number => Values::Number(Vec::new()),
                    Kind::Text => Values::Text(Vec::new()),
                },
                levels: Vec::new(),
            });
        }
        let schema = Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .map_err(parquet_error)?;
        let level = ZstdLevel::try_new(3).map_err(parquet_error)?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(level))
            .set_created_by("vomsim".to_string())
            .build();
        let out = self
            .out
            .take()
            .ok_or_else(|| invalid("the table has two headers".to_string()))?;
        self.writer = Some(
            SerializedFileWriter::new(out, Arc::new(schema), Arc::new(properties))
                .map_err(parquet_error)?,
        );
        Ok(())
    }

    fn row(&mut self, line: &str) -> io::Result<()> {
        let mut cells = line.split(',');
        for column in &mut self.columns {
            let cell = cells.next().ok_or_else(|| {
                invalid(format!(
                    "line {} has fewer fields than the header",
                    self.line
                ))
            })?;
            let typed = column
                .parse(cell)
                .map_err(|e| invalid(format!("line {}: {e}", self.line)))?;
            column.push(typed)?;
        }
        if cells.next().is_some() {
            return Err(invalid(format!(
                "line {} has more fields than the header",
                self.line
            )));
        }
        self.end_row()
    }

    /// Counts a row whose cells are in; a full row group is written.
    fn end_row(&mut self) -> io::Result<()> {
        self.rows += 1;
        if self.rows == ROW_GROUP_ROWS {
            self.flush_group()?;
        }
        Ok(())
    }

    /// Writes the rows gathered as one row group: each column chunk
    /// encoded into a buffer of its own ([`encode_group`]), then appended
    /// to the file in the schema's order. With more than one thread
    /// ([`ParquetSink::set_threads`]), up to that many groups (at most
    /// [`GROUPS_AT_ONCE`]) are encoded at once, each on a thread of its
    /// own, while the next ones are filled, and appended in their order.
    ///
    /// Why: encoding (dictionaries, statistics, zstd) was two thirds of
    /// `--format parquet`'s time after the simulation, on the thread that
    /// also fills the columns. A chunk's bytes depend only on its values
    /// and the writer's properties, and appending fixes its offsets, so the
    /// file is the same for any number of threads (a test holds it to the
    /// one written column by column through the row group's own writers).
    fn flush_group(&mut self) -> io::Result<()> {
        #[cfg(test)]
        if self.column_by_column {
            return self.flush_group_column_by_column();
        }
        let writer = self
            .writer
            .as_ref()
            .ok_or_else(|| invalid("the table has no header".to_string()))?;
        let descriptors: Vec<ColumnDescPtr> = writer.schema_descr().columns().to_vec();
        let properties = writer.properties().clone();
        if self.threads > 1 && self.encode_in_background(descriptors.clone(), properties.clone())? {
            return Ok(());
        }
        // Here: on one thread, or no thread could start. Groups still
        // encoding (threads set higher before) go first.
        while !self.encoding.is_empty() {
            self.append_oldest()?;
        }
        let chunks = encode_group(&descriptors, &properties, &self.columns);
        self.append_group(chunks)?;
        self.columns.iter_mut().for_each(Column::clear);
        self.rows = 0;
        Ok(())
    }

    /// Hands the group to a thread of its own (after appending the oldest
    /// if [`GROUPS_AT_ONCE`] or `threads` are already in the works), its
    /// place taken by emptied columns; `false` if no thread could start,
    /// the group left in place.
    fn encode_in_background(
        &mut self,
        descriptors: Vec<ColumnDescPtr>,
        properties: WriterPropertiesPtr,
    ) -> io::Result<bool> {
        // The oldest group is appended first if as many are in the works
        // as there are threads (its columns are then free for the next).
        if self.encoding.len() >= self.threads.min(GROUPS_AT_ONCE) {
            self.append_oldest()?;
        }
        let empty = self
            .spare
            .pop()
            .unwrap_or_else(|| self.columns.iter().map(Column::empty_like).collect());
        let filled = std::mem::replace(&mut self.columns, empty);
        // The group goes to the thread once it has started, so that a
        // thread that cannot start (a process limit), or is gone before it
        // took the group, leaves the group to this one.
        let (send, receive) = std::sync::mpsc::channel::<Vec<Column>>();
        let job = move || {
            let mut filled = receive.recv().unwrap_or_default();
            let chunks = encode_group(&descriptors, &properties, &filled);
            filled.iter_mut().for_each(Column::clear);
            (chunks, filled)
        };
        let filled = match std::thread::Builder::new().spawn(job) {
            Ok(handle) => match send.send(filled) {
                Ok(()) => {
                    self.encoding.push_back(handle);
                    self.rows = 0;
                    return Ok(true);
                }
                Err(returned) => returned.0,
            },
            Err(_) => filled,
        };
        let empty = std::mem::replace(&mut self.columns, filled);
        self.spare.push(empty);
        Ok(false)
    }

    /// Appends the oldest group encoded in the background, if there is
    /// one, keeping its emptied columns for a later group.
    fn append_oldest(&mut self) -> io::Result<()> {
        if let Some(job) = self.encoding.pop_front() {
            let (chunks, columns) = job
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            self.spare.push(columns);
            self.append_group(chunks)?;
        }
        Ok(())
    }

    /// Appends a row group's encoded chunks to the file.
    fn append_group(&mut self, chunks: Vec<io::Result<EncodedChunk>>) -> io::Result<()> {
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| invalid("the table has no header".to_string()))?;
        let mut group = writer.next_row_group().map_err(parquet_error)?;
        for chunk in chunks {
            let (bytes, close) = chunk?;
            group.append_column(&bytes, close).map_err(parquet_error)?;
        }
        group.close().map_err(parquet_error)?;
        Ok(())
    }

    /// A row group written through the row group's own column writers, one
    /// column after the other: the file [`ParquetSink::flush_group`] must
    /// give (tests).
    #[cfg(test)]
    fn flush_group_column_by_column(&mut self) -> io::Result<()> {
        let writer = self.writer.as_mut().expect("a header came first");
        let mut group = writer.next_row_group().map_err(parquet_error)?;
        for column in &self.columns {
            let mut out = group
                .next_column()
                .map_err(parquet_error)?
                .expect("a column");
            let levels = Some(column.levels.as_slice());
            match &column.values {
                Values::Integer(v) => out.typed::<Int64Type>().write_batch(v, levels, None),
                Values::Number(v) => out.typed::<DoubleType>().write_batch(v, levels, None),
                Values::Text(v) => out.typed::<ByteArrayType>().write_batch(v, levels, None),
            }
            .map_err(parquet_error)?;
            out.close().map_err(parquet_error)?;
        }
        group.close().map_err(parquet_error)?;
        self.columns.iter_mut().for_each(Column::clear);
        self.rows = 0;
        Ok(())
    }

    fn take_line(&mut self, line: &[u8]) -> io::Result<()> {
        self.line += 1;
        let line = std::str::from_utf8(line)
            .map_err(|_| invalid(format!("line {} is not UTF-8", self.line)))?;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.contains('"') {
            return Err(invalid(format!(
                "line {} holds a quoted field, which vomsim never writes",
                self.line
            )));
        }
        if self.writer.is_none() {
            self.header(line)
        } else {
            self.row(line)
        }
    }

    /// Writes the last rows and the file's footer.
    pub fn finish(mut self) -> io::Result<()> {
        if !self.pending.is_empty() {
            let last = std::mem::take(&mut self.pending);
            self.take_line(&last)?;
        }
        if self.writer.is_none() {
            return Err(invalid("the table has no header".to_string()));
        }
        if self.rows > 0 {
            self.flush_group()?;
        }
        while !self.encoding.is_empty() {
            self.append_oldest()?;
        }
        let writer = self.writer.take().expect("checked above");
        writer.close().map_err(parquet_error)?;
        Ok(())
    }
}

impl<W: Write + Send> Write for ParquetSink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(last) = self.pending.iter().rposition(|&b| b == b'\n') {
            let rest = self.pending.split_off(last + 1);
            let complete = std::mem::replace(&mut self.pending, rest);
            for line in complete[..complete.len() - 1].split(|&b| b == b'\n') {
                self.take_line(line)?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Writes a table as Parquet to `out`: `table` writes the CSV text (header
/// first) into the sink it is given.
pub fn write_table<W: Write + Send>(
    out: W,
    extra: Vec<(String, Kind)>,
    table: impl FnOnce(&mut ParquetSink<W>) -> io::Result<()>,
) -> io::Result<()> {
    let mut sink = ParquetSink::new(out, extra);
    table(&mut sink)?;
    sink.finish()
}

/// `replications` as Parquet, its rows given as the values themselves
/// rather than as CSV text: the same file as [`ParquetSink`] makes of the
/// CSV rows of [`super::csv::ReplicationRows`] (same columns, types, row
/// groups and values: a number's CSV text reads back to its bits), without
/// formatting each number and parsing it back, or a string allocated per
/// cell.
///
/// Why: through the CSV text, 10,000 replications of vors_la took 8.5 s to
/// write after a 1.9 s simulation, most of it on that text (formatting,
/// splitting, parsing, and an allocation per metric and group cell).
pub struct ReplicationsParquet<W: Write + Send> {
    sink: ParquetSink<W>,
    /// The point's cells (`point`, or a sweep's parameters), typed once.
    lead: Vec<Typed>,
    /// Each catalog entry's metric, group and month cells.
    keys: Vec<ReplicationKey>,
}

/// A catalog entry's cells in `replications`.
struct ReplicationKey {
    metric: ByteArray,
    group: ByteArray,
    /// `None` for a null (a metric without months).
    month: Option<i64>,
}

impl<W: Write + Send> ReplicationsParquet<W> {
    /// Starts the file (header `prefix.columns` then the replications'
    /// columns); `extra` types a sweep's parameter columns. (A run is the
    /// one caller today; a sweep's points, written as CSV fragments and
    /// assembled, go through the sink.)
    pub fn new(
        out: W,
        extra: Vec<(String, Kind)>,
        prefix: &super::csv::RowPrefix,
        catalog: &[crate::measure::metrics::MetricKey],
    ) -> io::Result<Self> {
        let mut sink = ParquetSink::new(out, extra);
        writeln!(sink, "{}", prefix.replications_header())?;
        let lead_columns = sink.columns.len().saturating_sub(REPLICATION_COLUMNS.len());
        let names: Vec<&str> = sink.columns[lead_columns..]
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        if names != REPLICATION_COLUMNS {
            return Err(invalid(format!(
                "replications end in columns {names:?}, not {REPLICATION_COLUMNS:?}"
            )));
        }
        if prefix.values.contains('"') {
            // As the sink refuses a quoted field in the text.
            return Err(invalid(format!(
                "the point's values {:?} hold a quoted field, which vomsim never writes",
                prefix.values
            )));
        }
        let cells: Vec<&str> = prefix.values.split(',').collect();
        if cells.len() != lead_columns {
            return Err(invalid(format!(
                "{} point values for {lead_columns} point columns",
                cells.len()
            )));
        }
        let lead = cells
            .iter()
            .zip(&sink.columns)
            .map(|(cell, column)| column.parse(cell))
            .collect::<io::Result<_>>()?;
        // The names' own static bytes: a clone per row copies a pointer,
        // where shared bytes would count references.
        let text = |s: &'static str| ByteArray::from(bytes::Bytes::from_static(s.as_bytes()));
        let keys = catalog
            .iter()
            .map(|key| ReplicationKey {
                metric: text(key.metric),
                group: text(key.group),
                month: key.month.map(i64::from),
            })
            .collect();
        Ok(ReplicationsParquet { sink, lead, keys })
    }

    /// Adds the rows of replication `rep`: one per defined value, as
    /// `replications.csv` has them.
    ///
    /// The cells go straight into their columns' vectors, a row group's
    /// room at a time, with the levels of the columns that are never null
    /// set in one stroke: pushed cell by cell through `Column::push`, the
    /// filling was a third of the Parquet writer's time.
    pub fn write(&mut self, rep: usize, row: &[f64]) -> io::Result<()> {
        let mut defined = self
            .keys
            .iter()
            .zip(row)
            .filter(|(_, v)| v.is_finite())
            .peekable();
        while defined.peek().is_some() {
            let room = ROW_GROUP_ROWS - self.sink.rows;
            let (lead_columns, columns) = self.sink.columns.split_at_mut(self.lead.len());
            let [reps, metrics, groups, months, values] = columns else {
                return Err(invalid("replications lost a column".to_string()));
            };
            let (
                Values::Integer(rep_values),
                Values::Text(metric_values),
                Values::Text(group_values),
                Values::Integer(month_values),
                Values::Number(value_values),
            ) = (
                &mut reps.values,
                &mut metrics.values,
                &mut groups.values,
                &mut months.values,
                &mut values.values,
            )
            else {
                return Err(invalid("replications' columns changed type".to_string()));
            };
            let before = value_values.len();
            for (key, &v) in defined.by_ref().take(room) {
                metric_values.push(key.metric.clone());
                group_values.push(key.group.clone());
                match key.month {
                    Some(month) => {
                        month_values.push(month);
                        months.levels.push(1);
                    }
                    None => months.levels.push(0),
                }
                value_values.push(v);
            }
            let added = value_values.len() - before;
            rep_values.resize(rep_values.len() + added, rep as i64);
            for levels in [
                &mut reps.levels,
                &mut metrics.levels,
                &mut groups.levels,
                &mut values.levels,
            ] {
                levels.resize(levels.len() + added, 1);
            }
            for (column, cell) in lead_columns.iter_mut().zip(&self.lead) {
                for _ in 0..added {
                    column.push(cell.clone())?;
                }
            }
            self.sink.rows += added;
            if self.sink.rows == ROW_GROUP_ROWS {
                self.sink.flush_group()?;
            }
        }
        Ok(())
    }

    /// Lets up to `threads` row groups from here on be encoded at once
    /// (`ParquetSink::set_threads`): the same file, whenever it is set.
    pub fn set_threads(&mut self, threads: usize) {
        self.sink.set_threads(threads);
    }

    /// Writes the last rows and the file's footer.
    pub fn finish(self) -> io::Result<()> {
        self.sink.finish()
    }
}

/// The columns of `replications` after the point's.
const REPLICATION_COLUMNS: [&str; 5] = ["rep", "metric", "group", "month", "value"];

/// The CSV text of a Parquet table vomsim wrote, streamed: the same bytes
/// as the CSV of the same run (numbers in Rust's shortest round-trip form,
/// nulls as empty cells). Used by `report` and `compare` on
/// `--format parquet` folders.
pub struct CsvFromParquet {
    names: Vec<String>,
    rows: ::parquet::record::reader::RowIter<'static>,
    text: Vec<u8>,
    at: usize,
}

impl CsvFromParquet {
    /// Opens a Parquet table; the header is the first line read.
    pub fn open(path: &Path) -> std::result::Result<CsvFromParquet, String> {
        let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
        let reader = SerializedFileReader::new(file).map_err(|e| e.to_string())?;
        let names: Vec<String> = reader
            .metadata()
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        let mut text = names.join(",").into_bytes();
        text.push(b'\n');
        Ok(CsvFromParquet {
            names,
            rows: reader.into_iter(),
            text,
            at: 0,
        })
    }

    /// Appends the next row's line; false at the end.
    fn next_line(&mut self) -> std::result::Result<bool, String> {
        use std::fmt::Write as _;
        let Some(row) = self.rows.next() else {
            return Ok(false);
        };
        let row = row.map_err(|e| e.to_string())?;
        let mut line = String::new();
        for (i, (_, field)) in row.get_column_iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            let _ = match field {
                Field::Null => Ok(()),
                Field::Long(v) => write!(line, "{v}"),
                Field::Int(v) => write!(line, "{v}"),
                Field::Double(v) => write!(line, "{v}"),
                Field::Str(s) => write!(line, "{s}"),
                other => {
                    return Err(format!(
                        "column {} holds {other}, a type vomsim does not write",
                        self.names.get(i).map_or("?", String::as_str)
                    ));
                }
            };
        }
        line.push('\n');
        self.text.extend_from_slice(line.as_bytes());
        Ok(true)
    }
}

impl io::Read for CsvFromParquet {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.text.len() {
            self.text.clear();
            self.at = 0;
            while self.text.len() < 1 << 16 && self.next_line().map_err(invalid)? {}
        }
        let n = buf.len().min(self.text.len() - self.at);
        buf[..n].copy_from_slice(&self.text[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The whole CSV text of a Parquet table (see [`CsvFromParquet`]).
pub fn read_as_csv(path: &Path) -> std::result::Result<String, String> {
    let mut text = String::new();
    io::Read::read_to_string(&mut CsvFromParquet::open(path)?, &mut text)
        .map_err(|e| e.to_string())?;
    Ok(text)
}

/// Whether folder `dir` holds table `table` (`summary`, `replications`,
/// ...) as CSV or as Parquet.
pub fn has_table(dir: &Path, table: &str) -> bool {
    [Format::Csv, Format::Parquet]
        .iter()
        .any(|f| dir.join(f.file(table)).is_file())
}

/// A CSV reader of table `table` in folder `dir`: its `.csv`, or else its
/// `.parquet` read back as the same CSV text. The error names the file
/// looked for.
pub fn table_reader(
    dir: &Path,
    table: &str,
) -> std::result::Result<::csv::Reader<Box<dyn io::Read>>, String> {
    let csv_path = dir.join(Format::Csv.file(table));
    let parquet_path = dir.join(Format::Parquet.file(table));
    let source: Box<dyn io::Read> = if !csv_path.exists() && parquet_path.is_file() {
        Box::new(CsvFromParquet::open(&parquet_path).map_err(|e| {
            format!(
                "{}: cannot read it as Parquet: {e}",
                Format::Parquet.file(table)
            )
        })?)
    } else {
        let file = std::fs::File::open(&csv_path)
            .map_err(|e| format!("{}: {e}", Format::Csv.file(table)))?;
        Box::new(io::BufReader::new(file))
    };
    Ok(::csv::Reader::from_reader(source))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "point,metric,group,month,mean,sd,q025,q500,q975,reps\n\
0,share,mediated,,0.6,0.1414213562373095,0.5,0.6,0.7,2\n\
0,rearrest,mediated,12,0.2,,0.1,0.2,0.3,1\n";

    fn parquet_of(text: &str, chunk: usize) -> Vec<u8> {
        let mut bytes = Vec::new();
        write_table(&mut bytes, Vec::new(), |sink| {
            for piece in text.as_bytes().chunks(chunk) {
                sink.write_all(piece)?;
            }
            Ok(())
        })
        .unwrap();
        bytes
    }

    #[test]
    fn a_table_reads_back_as_the_same_csv() {
        let bytes = parquet_of(TABLE, 7);
        assert_eq!(&bytes[..4], b"PAR1");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("summary.parquet");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read_as_csv(&path).unwrap(), TABLE);
    }

    #[test]
    fn bytes_do_not_depend_on_how_the_text_was_chunked() {
        assert_eq!(parquet_of(TABLE, 1), parquet_of(TABLE, 4096));
    }

    #[test]
    fn a_cell_of_the_wrong_type_is_an_error() {
        let mut bytes = Vec::new();
        let err = write_table(&mut bytes, Vec::new(), |sink| {
            sink.write_all(b"point,month\n0,twelve\n")
        })
        .unwrap_err();
        assert!(
            err.to_string().contains("\"twelve\" in column month"),
            "{err}"
        );
        let err = write_table(&mut bytes, Vec::new(), |sink| {
            sink.write_all(b"point,x\n0,1\n")
        })
        .unwrap_err();
        assert!(
            err.to_string().contains("no Parquet type for column \"x\""),
            "{err}"
        );
    }

    #[test]
    fn values_give_the_kind_of_a_parameter_column() {
        assert_eq!(kind_of_values(["1", "20"]), Kind::Integer);
        assert_eq!(kind_of_values(["1", "0.5"]), Kind::Number);
        assert_eq!(kind_of_values(["1", "court_ordered"]), Kind::Text);
    }

    /// The typed writer makes the file the sink makes of the CSV rows, byte
    /// for byte: with a sweep's parameter columns, undefined values left
    /// out, months absent and present, -0, and rows enough to fill a row
    /// group and start another.
    #[test]
    fn typed_replications_are_the_file_of_their_csv() {
        use crate::measure::metrics::MetricKey;
        use crate::output::csv::{self, RowPrefix};
        let catalog: Vec<MetricKey> = (0..64)
            .map(|i| MetricKey {
                metric: if i % 2 == 0 { "share" } else { "rearrest" },
                group: if i % 3 == 0 { "mediated" } else { "referred" },
                month: (i % 4 != 0).then_some(i),
            })
            .collect();
        // 15,000 replications of 64 values, two in 16 undefined: 840,000
        // rows, three row groups of 262,144 and a part (so that on two
        // threads a full group waits for the oldest to be appended).
        let reps = 15_000;
        let values: Vec<Vec<f64>> = (0..reps)
            .map(|r| {
                (0..catalog.len())
                    .map(|i| match (r + i) % 16 {
                        0 => f64::NAN,
                        1 => -0.0,
                        2 => (r * i) as f64,
                        3 => 2f64.powi(60) + (r * 4096) as f64,
                        4 => 5e-324 * (r % 7) as f64,
                        5 => f64::INFINITY,
                        _ => (r as f64 + 0.5) / (i as f64 + 3.0),
                    })
                    .collect()
            })
            .collect();
        let prefix = RowPrefix {
            columns: "point,mediators.initial_active,mode,share,note".to_string(),
            values: "3,20,court,0.5,".to_string(),
        };
        let extra = || {
            vec![
                ("mediators.initial_active".to_string(), Kind::Integer),
                ("mode".to_string(), Kind::Text),
                ("share".to_string(), Kind::Number),
                ("note".to_string(), Kind::Text),
            ]
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        const THREADS: [(usize, usize); 5] = [(1, 1), (2, 2), (7, 7), (1, 2), (3, 1)];
        // Through the text, each row group written column by column by the
        // row group's own writers; typed, its chunks encoded apart: on 1, 2
        // and 7 threads (7 is capped at GROUPS_AT_ONCE), and from 1 thread
        // to 2 halfway, as a run does that wrote rows while it simulated,
        // then from 3 back to 1.
        let all = |values: &[Vec<f64>]| {
            let mut through_text = Vec::new();
            let mut sink = ParquetSink::new(&mut through_text, extra());
            sink.column_by_column = true;
            csv::write_replications(&mut sink, &pool, &prefix, true, &catalog, values).unwrap();
            sink.finish().unwrap();
            let typed: Vec<Vec<u8>> = THREADS
                .into_iter()
                .map(|(first, then)| {
                    let mut typed = Vec::new();
                    let mut table =
                        ReplicationsParquet::new(&mut typed, extra(), &prefix, &catalog).unwrap();
                    table.set_threads(first);
                    for (rep, row) in values.iter().enumerate() {
                        if rep == values.len() / 2 {
                            table.set_threads(then);
                        }
                        table.write(rep, row).unwrap();
                    }
                    table.finish().unwrap();
                    typed
                })
                .collect();
            (through_text, typed)
        };
        let rows = values.iter().flatten().filter(|v| v.is_finite()).count();
        assert!(
            rows > 3 * ROW_GROUP_ROWS,
            "{rows} rows fill no fourth group"
        );
        let (through_text, typed) = all(&values);
        assert!(through_text.len() > 1000);
        for (file, threads) in typed.iter().zip(THREADS) {
            assert!(
                *file == through_text,
                "the typed file on {threads:?} threads differs"
            );
        }
        // Rows that fill their row groups exactly (64 defined values a
        // replication, 4,096 replications a group): no last partial group.
        let full: Vec<Vec<f64>> = (0..2 * ROW_GROUP_ROWS / catalog.len())
            .map(|r| {
                (0..catalog.len())
                    .map(|i| (r * 64 + i) as f64 / 7.0)
                    .collect()
            })
            .collect();
        let (through_text, typed) = all(&full);
        assert!(
            typed.iter().all(|file| *file == through_text),
            "a file of whole groups differs"
        );
        // No replications at all: a header and no row group.
        let (through_text, typed) = all(&[]);
        assert!(
            typed.iter().all(|file| *file == through_text),
            "the empty typed file differs"
        );
    }

    #[test]
    fn typed_replications_refuse_a_prefix_that_does_not_fit() {
        for (values, expected) in [
            ("0,1", "2 point values for 1 point columns"),
            ("\"0\"", "quoted field"),
            ("zero", "\"zero\" in column point is not of its type"),
        ] {
            let prefix = crate::output::csv::RowPrefix {
                columns: "point".to_string(),
                values: values.to_string(),
            };
            let err = ReplicationsParquet::new(Vec::new(), Vec::new(), &prefix, &[])
                .err()
                .unwrap();
            assert!(err.to_string().contains(expected), "{values}: {err}");
        }
    }
}
