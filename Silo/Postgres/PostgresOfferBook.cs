using ChatGrains.Grains;
using Npgsql;
using static ChatGrains.Silo.Postgres.Parameters;

namespace ChatGrains.Silo.Postgres;

/// <summary>
/// <see cref="IOfferBook"/> in the <c>chat_offers</c> table. Its writes ride the node's write
/// batches, so a creation's offers share a commit with other activations' records.
/// </summary>
internal sealed class PostgresOfferBook(NpgsqlDataSource db, PostgresBatches batches) : IOfferBook
{
    public Task RecordAsync(Guid chatId, IReadOnlyCollection<Guid> commercialIds) => batches.Writes.RunAsync(new Statement(
        "INSERT INTO chat_offers (commercial_id, chat_id, offered_at) SELECT unnest($1::uuid[]), $2, now() ON CONFLICT DO NOTHING RETURNING chat_id",
        OrderOf(chatId), Ids(commercialIds), Id(chatId)));

    public Task WithdrawAsync(Guid chatId, IReadOnlyCollection<Guid> commercialIds) => batches.Writes.RunAsync(new Statement(
        "DELETE FROM chat_offers WHERE commercial_id = ANY($1) AND chat_id = $2 RETURNING chat_id",
        OrderOf(chatId), Ids(commercialIds), Id(chatId)));

    public Task ForgetAsync(Guid commercialId, IReadOnlyCollection<Guid> chatIds) => batches.Writes.RunAsync(new Statement(
        "DELETE FROM chat_offers WHERE commercial_id = $1 AND chat_id = ANY($2) RETURNING chat_id",
        OrderOf(commercialId), Id(commercialId), Ids(chatIds)));

    public async Task<IReadOnlyList<Offer>> OffersToAsync(Guid commercialId)
    {
        await using var command = db.CreateCommand("SELECT chat_id, offered_at FROM chat_offers WHERE commercial_id = $1");
        command.Parameters.Add(Id(commercialId));
        await using var reader = await command.ExecuteReaderAsync();
        var offers = new List<Offer>();
        while (await reader.ReadAsync())
        {
            offers.Add(new Offer(reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1)));
        }
        return offers;
    }
}
