namespace ChatGrains.Tests.Infrastructure;

/// <summary>The README's code that tests run as written: each block follows a <c>&lt;!-- verify:NAME --&gt;</c> line.</summary>
public static class ReadmeSnippets
{
    /// <summary>The code block after <c>&lt;!-- verify:{name} --&gt;</c> in the README, unindented.</summary>
    public static string Block(string name)
    {
        var lines = File.ReadAllLines(RepositoryPaths.Of("README.md"));
        var marker = Array.FindIndex(lines, l => l.Trim() == $"<!-- verify:{name} -->");
        Assert.True(marker >= 0, $"the README has no <!-- verify:{name} --> snippet");
        var open = Array.FindIndex(lines, marker, l => l.TrimStart().StartsWith("```", StringComparison.Ordinal));
        var indent = lines[open].Length - lines[open].TrimStart().Length;
        var close = Array.FindIndex(lines, open + 1, l => l.Trim() == "```");
        return string.Join('\n', lines[(open + 1)..close].Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()));
    }
}
