using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ChatGrains.ApiGateway.Auth;
using ChatGrains.ApiGateway.Webhooks;
using ChatGrains.Grains;
using ChatGrains.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ChatGrains.Tests.Webhooks;

/// <summary>A node with the defaults: https only, no private networks.</summary>
public sealed class StrictWebhookNodeFixture : IAsyncLifetime
{
    public TestNode Node { get; private set; } = null!;

    public async Task InitializeAsync() => Node = await TestNode.StartOnSqliteAsync();

    public async Task DisposeAsync() => await Node.DisposeAsync();
}

/// <summary>
/// No webhook reaches inside: internal addresses and names that resolve to them are refused at
/// registration and again before any connection; only loopback names and addresses are used, so no
/// packet leaves the machine.
/// </summary>
public sealed class WebhookAddressTests(StrictWebhookNodeFixture fixture) : IClassFixture<StrictWebhookNodeFixture>
{
    private TestNode Node => fixture.Node;

    [Theory]
    [InlineData("https://localhost:8443/hook")]
    [InlineData("https://127.0.0.1/hook")]
    [InlineData("https://127.1.2.3/hook")]
    [InlineData("https://[::1]/hook")]
    [InlineData("https://[::ffff:127.0.0.1]/hook")]
    [InlineData("https://169.254.169.254/latest/meta-data/")]
    [InlineData("https://10.1.2.3/hook")]
    [InlineData("https://172.16.0.1/hook")]
    [InlineData("https://192.168.1.1/hook")]
    [InlineData("https://100.64.0.1/hook")]
    [InlineData("https://0.0.0.0/hook")]
    [InlineData("https://[fd00:ec2::254]/hook")]
    [InlineData("https://[fe80::1]/hook")]
    [InlineData("http://example.invalid/hook")]
    public async Task AnInternalOrPlainHttpUrlIsRefusedAtRegistrationAndNothingIsStored(string url)
    {
        using var admin = Node.ClientFor(Roles.Admin);

        using var response = await admin.PostAsJsonAsync(new Uri("/v2/webhooks", UriKind.Relative), new { url });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.NotNull(problem["errors"]!["url"]);
        Assert.Equal(0, await Node.Database.GrainRecordsAsync(GrainStorage.Webhook));
    }

    [Fact]
    public async Task TheTransportRefusesANameResolvingToLoopbackBeforeConnecting()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var transport = Node.Services.GetRequiredService<IWebhookTransport>();
            var secret = Node.Services.GetRequiredService<WebhookSecrets>().New().Protected;

            var (_, result) = await transport.SendTestAsync(new WebhookTarget(Guid.NewGuid(), $"https://localhost:{port}/hook", secret, null), CancellationToken.None);

            Assert.Null(result.StatusCode);
            Assert.StartsWith("Refused", result.Error, StringComparison.Ordinal);
            Assert.False(listener.Pending(), "a connection reached the listener");
        }
        finally
        {
            listener.Stop();
        }
    }

    [Theory]
    [InlineData("8.8.8.8", false)]
    [InlineData("93.184.216.34", false)]
    [InlineData("2606:4700:4700::1111", false)]
    [InlineData("127.0.0.1", true)]
    [InlineData("10.0.0.1", true)]
    [InlineData("172.31.255.255", true)]
    [InlineData("172.32.0.1", false)]
    [InlineData("192.168.0.1", true)]
    [InlineData("169.254.169.254", true)]
    [InlineData("100.100.100.200", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("::1", true)]
    [InlineData("::", true)]
    [InlineData("fe80::1", true)]
    [InlineData("fc00::1", true)]
    [InlineData("fd00:ec2::254", true)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("::ffff:8.8.8.8", false)]
    [InlineData("64:ff9b::a9fe:a9fe", true)]
    [InlineData("2002:7f00:1::", true)]
    [InlineData("ff02::1", true)]
    public void AddressesAreClassifiedBeforeAnyConnection(string address, bool isInternal) =>
        Assert.Equal(isInternal, WebhookAddresses.IsInternal(IPAddress.Parse(address)));
}
