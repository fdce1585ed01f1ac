using ChatGrains.Grains;
using Microsoft.Data.Sqlite;

namespace ChatGrains.Silo.Sqlite;

/// <summary><see cref="IOfferBook"/> in the SQLite file's <c>chat_offers</c> table (ids as text, times as Unix milliseconds).</summary>
internal sealed class SqliteOfferBook(SqliteStorage storage, TimeProvider clock) : IOfferBook
{
    public Task RecordAsync(Guid chatId, IReadOnlyCollection<Guid> commercialIds) =>
        EachAsync(commercialIds, "INSERT OR IGNORE INTO chat_offers (commercial_id, chat_id, offered_at) VALUES ($commercial, $chat, $at)",
            commercialId => (commercialId, chatId));

    public Task WithdrawAsync(Guid chatId, IReadOnlyCollection<Guid> commercialIds) =>
        EachAsync(commercialIds, "DELETE FROM chat_offers WHERE commercial_id = $commercial AND chat_id = $chat", commercialId => (commercialId, chatId));

    public Task ForgetAsync(Guid commercialId, IReadOnlyCollection<Guid> chatIds) =>
        EachAsync(chatIds, "DELETE FROM chat_offers WHERE commercial_id = $commercial AND chat_id = $chat", chatId => (commercialId, chatId));

    public async Task<IReadOnlyList<Offer>> OffersToAsync(Guid commercialId)
    {
        await using var connection = await storage.OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT chat_id, offered_at FROM chat_offers WHERE commercial_id = $commercial";
        command.Parameters.AddWithValue("$commercial", commercialId.ToString());
        await using var reader = await command.ExecuteReaderAsync();
        var offers = new List<Offer>();
        while (await reader.ReadAsync())
        {
            offers.Add(new Offer(Guid.Parse(reader.GetString(0)), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1))));
        }
        return offers;
    }

    /// <summary>One statement per (commercial, chat) pair, in one transaction.</summary>
    private async Task EachAsync<T>(IReadOnlyCollection<T> items, string sql, Func<T, (Guid Commercial, Guid Chat)> pair)
    {
        await using var connection = await storage.OpenAsync(CancellationToken.None);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        var commercial = command.Parameters.Add("$commercial", SqliteType.Text);
        var chat = command.Parameters.Add("$chat", SqliteType.Text);
        command.Parameters.AddWithValue("$at", clock.GetUtcNow().ToUnixTimeMilliseconds());
        foreach (var item in items)
        {
            var (commercialId, chatId) = pair(item);
            commercial.Value = commercialId.ToString();
            chat.Value = chatId.ToString();
            await command.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }
}
