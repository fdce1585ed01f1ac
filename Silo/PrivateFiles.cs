using System.Runtime.Versioning;

namespace ChatGrains.Silo;

/// <summary>
/// The data folder holds the database, the signing key and the data protection keys: only the
/// node's own user may read it. Folders are created 0700 and files 0600 (on Windows, the folder's
/// inherited ACL applies instead).
/// </summary>
public static class PrivateFiles
{
    public const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    public const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode GroupOrOthers =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    /// <summary>Creates the folder (and any missing parent) 0700; an existing folder is left as the operator made it.</summary>
    public static string CreateFolder(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, FolderMode);
        }
        return path;
    }

    /// <summary>Options that create a new file 0600, failing if it exists.</summary>
    public static FileStreamOptions NewFile()
    {
        var options = new FileStreamOptions { Mode = System.IO.FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }
        return options;
    }

    /// <summary>
    /// Creates the file empty and 0600 if it is missing, and takes group's and others' access away if
    /// it is not: a file this node writes is its own.
    /// </summary>
    public static void Restrict(string path)
    {
        try
        {
            using (new FileStream(path, NewFile()))
            {
            }
        }
        catch (IOException) when (File.Exists(path))
        {
            // It exists: made earlier, or by another node starting at the same moment.
        }
        RestrictIfPresent(path);
    }

    /// <summary>Takes group's and others' access away from the file if it exists.</summary>
    public static void RestrictIfPresent(string path)
    {
        if (!OperatingSystem.IsWindows() && File.Exists(path) && IsOpenToGroupOrOthers(path))
        {
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) & ~GroupOrOthers);
        }
    }

    /// <summary>Whether anyone but the owner may read, write or run it (always false on Windows).</summary>
    [UnsupportedOSPlatformGuard("windows")]
    public static bool IsOpenToGroupOrOthers(string path) =>
        !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & GroupOrOthers) != 0;
}
