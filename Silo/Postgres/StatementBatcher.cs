using System.Threading.Channels;
using ChatGrains.Grains;
using Npgsql;

namespace ChatGrains.Silo.Postgres;

/// <summary>
/// One statement of a batch, whose answer is its first row, if any. Every statement must return
/// rows (a write, a <c>RETURNING</c> clause): the batch's result sets are matched to its
/// statements in order, and a statement without one would have no result set to match.
/// </summary>
internal abstract class BatchedStatement
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Done => _done.Task;

    /// <summary>
    /// The order writes take their row locks in (see <see cref="StatementBatcher"/>): any value
    /// that depends only on the rows the statement changes.
    /// </summary>
    public abstract Int128 LockOrder { get; }

    public abstract NpgsqlBatchCommand Command();

    /// <summary>Takes the statement's answer: the reader is on its first row, or <paramref name="row"/> is null when it has none.</summary>
    public abstract void Take(NpgsqlDataReader? row);

    public void Complete() => _done.TrySetResult();

    public void Fail(Exception exception) => _done.TrySetException(exception);
}

/// <summary>A statement whose rows its caller does not need (it still returns some: see <see cref="BatchedStatement"/>), with its parameters.</summary>
internal sealed class Statement(string sql, Int128 lockOrder, params NpgsqlParameter[] parameters) : BatchedStatement
{
    public override Int128 LockOrder => lockOrder;

    public override NpgsqlBatchCommand Command()
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    public override void Take(NpgsqlDataReader? row)
    {
    }
}

/// <summary>
/// The node's two statement batchers on its PostgreSQL data source, shared by everything that
/// stores there: reads, and writes (so a chat's record and its offers share commits).
/// </summary>
internal sealed class PostgresBatches(NpgsqlDataSource db, PostgresGrainStorageOptions options) : IAsyncDisposable
{
    // Reads change nothing: they need no lock order, and never wait behind a commit.
    public StatementBatcher Reads { get; } = new(db, options.ConcurrentBatches, options.MaxBatch, sortByRow: false);

    public StatementBatcher Writes { get; } = new(db, options.ConcurrentBatches, options.MaxBatch, sortByRow: true);

    public async ValueTask DisposeAsync()
    {
        await Reads.DisposeAsync();
        await Writes.DisposeAsync();
    }
}

/// <summary>
/// Coalesces the statements of concurrent grain activations into one round trip and one
/// implicit transaction (so one commit, one WAL flush) per batch, on one pooled connection.
/// Under load, the statements that arrive while a batch is under way form the next one; alone,
/// a statement runs at once. A statement is answered only once its batch committed, so a write
/// is acknowledged only when it is durable.
/// <para>
/// Writes are sorted by their row before they are sent, so two batches (of two nodes, during a
/// duplicate activation) lock shared rows in the same order and cannot deadlock. A batch that
/// fails for a reason other than the database being unavailable (a bug, a bad value) is run
/// again one statement at a time, so one failing statement never fails its neighbours.
/// </para>
/// </summary>
internal sealed class StatementBatcher : IAsyncDisposable
{
    private readonly NpgsqlDataSource _db;
    private readonly int _maxBatch;
    private readonly bool _sortByRow;
    private readonly Channel<BatchedStatement> _queue = Channel.CreateUnbounded<BatchedStatement>();
    private readonly Task[] _executors;

    /// <param name="concurrency">Batches under way at once (each on its own connection).</param>
    public StatementBatcher(NpgsqlDataSource db, int concurrency, int maxBatch, bool sortByRow)
    {
        _db = db;
        _maxBatch = maxBatch;
        _sortByRow = sortByRow;
        _executors = [.. Enumerable.Range(0, concurrency).Select(_ => Task.Run(ExecuteBatchesAsync))];
    }

    public Task RunAsync(BatchedStatement statement)
    {
        if (!_queue.Writer.TryWrite(statement))
        {
            statement.Fail(new ObjectDisposedException(nameof(StatementBatcher)));
        }
        return statement.Done;
    }

    private async Task ExecuteBatchesAsync()
    {
        var batch = new List<BatchedStatement>(_maxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < _maxBatch && _queue.Reader.TryRead(out var statement))
            {
                batch.Add(statement);
            }
            if (_sortByRow && batch.Count > 1)
            {
                batch.Sort((a, b) => a.LockOrder.CompareTo(b.LockOrder));
            }
            await ExecuteAsync(batch);
            batch.Clear();
        }
    }

    private async Task ExecuteAsync(List<BatchedStatement> statements)
    {
        try
        {
            await RunInOneTransactionAsync(statements);
        }
        catch (Exception exception) when (statements.Count > 1 && !Failures.IsStorageUnavailable(exception))
        {
            foreach (var statement in statements)
            {
                await ExecuteAsync([statement]);
            }
            return;
        }
        catch (Exception exception)
        {
            foreach (var statement in statements)
            {
                statement.Fail(exception);
            }
            return;
        }
        foreach (var statement in statements)
        {
            statement.Complete();
        }
    }

    /// <summary>
    /// Without an explicit transaction Npgsql sends the batch with one Sync: PostgreSQL runs it as
    /// one implicit transaction, committed (or rolled back whole) when the reader is done.
    /// </summary>
    private async Task RunInOneTransactionAsync(List<BatchedStatement> statements)
    {
        await using var connection = await _db.OpenConnectionAsync();
        await using var batch = new NpgsqlBatch(connection);
        foreach (var statement in statements)
        {
            batch.BatchCommands.Add(statement.Command());
        }
        await using var reader = await batch.ExecuteReaderAsync();
        foreach (var statement in statements)
        {
            statement.Take(await reader.ReadAsync() ? reader : null);
            await reader.NextResultAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await Task.WhenAll(_executors);
    }
}
