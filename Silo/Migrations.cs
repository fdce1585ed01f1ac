using System.Reflection;

namespace ChatGrains.Silo;

/// <summary>A versioned SQL script, embedded under <c>Migrations/{provider}/</c>.</summary>
public sealed record Migration(string Version, string Sql)
{
    public static IReadOnlyList<Migration> For(string provider)
    {
        var assembly = typeof(Migration).Assembly;
        var prefix = $"migrations/{provider}/";
        return [.. assembly.GetManifestResourceNames()
            .Where(name => name.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(name => new Migration(Path.GetFileNameWithoutExtension(name[prefix.Length..]), Read(assembly, name)))];
    }

    private static string Read(Assembly assembly, string name)
    {
        using var stream = assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
