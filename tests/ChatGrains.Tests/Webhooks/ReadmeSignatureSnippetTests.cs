using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.Grains;
using ChatGrains.Tests.Chats;
using ChatGrains.Tests.Infrastructure;

namespace ChatGrains.Tests.Webhooks;

/// <summary>
/// The README's signature checks in C#, Node.js and Python, each taken from the README as written
/// and run on a real delivery of a node: it accepts it, and refuses it with one byte of the body changed.
/// </summary>
public sealed partial class ReadmeSignatureSnippetTests(WebhookNodeFixture fixture) : IClassFixture<WebhookNodeFixture>
{
    private static readonly TimeSpan ProcessPatience = TimeSpan.FromSeconds(30);

    private async Task<(ReceivedDelivery Delivery, string Secret)> ADeliveryAsync()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var admin = fixture.Node.ClientFor(Roles.Admin);
        using var created = await admin.PostAsJsonAsync(new Uri("/v2/webhooks", UriKind.Relative),
            new { url = receiver.Url.ToString(), types = new[] { EventTypes.ChatCreated } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var body = (await created.Content.ReadFromJsonAsync<JsonObject>())!;
        var chatId = Guid.NewGuid();
        using var commercial = fixture.Node.ClientFor(Roles.Commercial);
        using var chat = await commercial.PutChatAsync(chatId, ChatRequests.FullBody(Guid.NewGuid()));
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        var delivery = (await receiver.WaitForAsync(r => r.Any(d => d.ChatId == chatId))).Single(d => d.ChatId == chatId);
        using var deleted = await admin.DeleteAsync(new Uri($"/v2/webhooks/{body["webhook"]!["id"]}", UriKind.Relative));
        return (delivery, (string)body["secret"]!);
    }

    private static ReceivedDelivery Tampered(ReceivedDelivery delivery) =>
        delivery with { Body = delivery.Body.Replace("\"chat.created\"", "\"chat.closed\"", StringComparison.Ordinal) };

    [Fact]
    public async Task TheCSharpSnippetIsTheCompiledCheckAndAcceptsOnlyTheDeliveryAsSent()
    {
        var snippet = ReadmeSnippets.Block("csharp");
        var compiled = await File.ReadAllTextAsync(RepositoryPaths.Of("tests", "ChatGrains.Tests", "Webhooks", "ReadmeSignatureCheck.cs"));
        var method = snippet[snippet.IndexOf("static bool IsSignedBy", StringComparison.Ordinal)..];
        Assert.Contains(Normalised(method), Normalised(compiled), StringComparison.Ordinal);
        var (delivery, secret) = await ADeliveryAsync();

        Assert.True(ReadmeSignatureCheck.IsSignedBy(secret, delivery.Id, delivery.Timestamp, delivery.Body, delivery.Signature));
        var tampered = Tampered(delivery);
        Assert.False(ReadmeSignatureCheck.IsSignedBy(secret, tampered.Id, tampered.Timestamp, tampered.Body, tampered.Signature));
    }

    [Fact]
    public async Task TheNodeSnippetAcceptsOnlyTheDeliveryAsSent()
    {
        var script = ReadmeSnippets.Block("node") + "\nconst e = process.env;\nprocess.exit(isSignedBy(e.SECRET, e.ID, e.TS, e.BODY, e.SIG) ? 0 : 1);\n";
        var (delivery, secret) = await ADeliveryAsync();

        Assert.Equal(0, await RunAsync("node", ".js", script, delivery, secret));
        Assert.Equal(1, await RunAsync("node", ".js", script, Tampered(delivery), secret));
    }

    [Fact]
    public async Task ThePythonSnippetAcceptsOnlyTheDeliveryAsSent()
    {
        var script = ReadmeSnippets.Block("python") + "\nimport os, sys\ne = os.environ\nsys.exit(0 if is_signed_by(e['SECRET'], e['ID'], e['TS'], e['BODY'], e['SIG']) else 1)\n";
        var (delivery, secret) = await ADeliveryAsync();

        Assert.Equal(0, await RunAsync("python3", ".py", script, delivery, secret));
        Assert.Equal(1, await RunAsync("python3", ".py", script, Tampered(delivery), secret));
    }

    private static string Normalised(string code) => Whitespace().Replace(code, " ").Trim();

    private static async Task<int> RunAsync(string interpreter, string extension, string script, ReceivedDelivery delivery, string secret)
    {
        var path = Path.Combine(Path.GetTempPath(), $"verify-{Guid.NewGuid():N}{extension}");
        await File.WriteAllTextAsync(path, script);
        try
        {
            var start = new ProcessStartInfo(interpreter, [path]) { RedirectStandardError = true, RedirectStandardOutput = true };
            start.Environment["SECRET"] = secret;
            start.Environment["ID"] = delivery.Id;
            start.Environment["TS"] = delivery.Timestamp;
            start.Environment["BODY"] = delivery.Body;
            start.Environment["SIG"] = delivery.Signature;
            using var process = Process.Start(start)!;
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(ProcessPatience);
            Assert.True(process.ExitCode is 0 or 1, $"{interpreter} failed ({process.ExitCode}): {await errors}");
            return process.ExitCode;
        }
        finally
        {
            File.Delete(path);
        }
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
