using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Npgsql;

namespace ChatGrains.Silo.Postgres;

/// <summary>
/// The data protection key ring in the cluster's database (migration 0006), so every node
/// decrypts what another node protected — the dashboard's sign-in cookie, antiforgery tokens.
/// The key ring is first loaded while the node starts, possibly before the migrations created the
/// table on a fresh database: the repository waits for the schema (at most <see cref="SchemaWait"/>).
/// </summary>
internal sealed class PostgresKeyRepository(NpgsqlDataSource db, StorageReadiness schema) : IXmlRepository
{
    private static readonly TimeSpan SchemaWait = TimeSpan.FromSeconds(60);

    // The interface is synchronous; it is called when the key ring is (re)loaded, not per request.
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        schema.WaitUntilReady(SchemaWait);
        using var command = db.CreateCommand("SELECT xml FROM data_protection_keys ORDER BY created_at");
        using var reader = command.ExecuteReader();
        var elements = new List<XElement>();
        while (reader.Read())
        {
            elements.Add(XElement.Parse(reader.GetString(0)));
        }
        return elements;
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        schema.WaitUntilReady(SchemaWait);
        using var command = db.CreateCommand("INSERT INTO data_protection_keys (name, xml) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = friendlyName });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = element.ToString(SaveOptions.DisableFormatting) });
        command.ExecuteNonQuery();
    }
}
