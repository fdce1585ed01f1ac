using System.Runtime.InteropServices;
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
    /// Creates the file empty and 0600 if it is missing; an existing one is made private as
    /// <see cref="RestrictIfPresent"/> says.
    /// </summary>
    /// <returns>Whether the file is left open to group or others.</returns>
    public static bool Restrict(string path, string settingName)
    {
        RefuseLinkOrSpecialFile(path, settingName);
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
        return RestrictIfPresent(path, settingName);
    }

    /// <summary>
    /// Takes group's and others' access away from the file if it exists, but only inside a folder
    /// that is itself private (as the node makes its data folder): elsewhere the file may be shared
    /// on purpose, and a path that names, say, a file in <c>/etc</c> must not have its mode changed.
    /// chmod follows links, so a link or a special file is refused, naming the setting.
    /// </summary>
    /// <returns>Whether the file is left open to group or others.</returns>
    public static bool RestrictIfPresent(string path, string settingName)
    {
        RefuseLinkOrSpecialFile(path, settingName);
        if (OperatingSystem.IsWindows() || !File.Exists(path) || !IsOpenToGroupOrOthers(path))
        {
            return false;
        }
        if (IsOpenToGroupOrOthers(Path.GetDirectoryName(Path.GetFullPath(path))!))
        {
            return true;
        }
        File.SetUnixFileMode(path, File.GetUnixFileMode(path) & ~GroupOrOthers);
        return false;
    }

    /// <summary>Whether anyone but the owner may read, write or run it (always false on Windows).</summary>
    [UnsupportedOSPlatformGuard("windows")]
    public static bool IsOpenToGroupOrOthers(string path) =>
        !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & GroupOrOthers) != 0;

    /// <summary>
    /// A path the node opens, writes or chmods by name must be a regular file or absent: a symbolic
    /// link would have it act on the link's target, and a device or pipe is no key or database.
    /// Only the last component is checked; the folders on the way are the operator's choice.
    /// </summary>
    public static void RefuseLinkOrSpecialFile(string path, string settingName)
    {
        switch (KindOf(path))
        {
            case FileKind.SymbolicLink:
                throw new InvalidOperationException($"{settingName}: '{path}' is a symbolic link; name the file itself.");
            case FileKind.Other:
                throw new InvalidOperationException($"{settingName}: '{path}' is not a regular file.");
        }
    }

    private enum FileKind
    {
        Missing,
        Regular,
        SymbolicLink,
        Other,
    }

    private static FileKind KindOf(string path)
    {
        if (OperatingSystem.IsLinux())
        {
            return KindOnLinux(path);
        }
        // .NET tells links and folders apart but not devices, pipes or sockets from files.
        var info = new FileInfo(path);
        return info.LinkTarget is not null ? FileKind.SymbolicLink
            : Directory.Exists(path) ? FileKind.Other
            : info.Exists ? FileKind.Regular
            : FileKind.Missing;
    }

    private const int AtCurrentDirectory = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int NoSuchFile = 2;
    private const int NotADirectory = 20;

    /// <summary>statx(2), whose buffer has one layout on every Linux architecture: <c>stx_mode</c> is the u16 at offset 28.</summary>
    [SupportedOSPlatform("linux")]
    private static FileKind KindOnLinux(string path)
    {
        var buffer = new byte[256];
        if (Statx(AtCurrentDirectory, path, AtSymlinkNoFollow, StatxType, buffer) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            return error is NoSuchFile or NotADirectory
                ? FileKind.Missing
                : throw new IOException($"Cannot inspect '{path}' (errno {error}).");
        }
        return (BitConverter.ToUInt16(buffer, 28) & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0xA000 => FileKind.SymbolicLink,
            _ => FileKind.Other,
        };
    }

    [DllImport("libc", EntryPoint = "statx", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int Statx(int directory, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);
}
