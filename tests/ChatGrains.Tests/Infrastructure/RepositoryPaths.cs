namespace ChatGrains.Tests.Infrastructure;

/// <summary>Files of the repository the tests run from.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> RootFolder = new(() =>
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "ChatGrains.sln")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} holds ChatGrains.sln.");
    });

    /// <summary>The folder holding ChatGrains.sln, found by walking up from the test binaries.</summary>
    public static string Root => RootFolder.Value;

    public static string Of(params string[] parts) => Path.Combine([Root, .. parts]);
}
