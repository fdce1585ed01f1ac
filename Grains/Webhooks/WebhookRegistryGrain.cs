namespace ChatGrains.Grains;

/// <summary>The stored list of webhook ids (key 0): few, changed only by admins.</summary>
public sealed class WebhookRegistryGrain(
    [PersistentState(GrainStorage.WebhookRegistry, GrainStorage.Name)] IPersistentState<WebhookRegistryGrain.Ids> state) : Grain, IWebhookRegistryGrain
{
    public sealed class Ids
    {
        public Guid[] Values { get; set; } = [];
    }

    public Task Add(Guid webhookId) => ChangeAsync([.. state.State.Values.Where(id => id != webhookId), webhookId]);

    public Task Remove(Guid webhookId) => ChangeAsync([.. state.State.Values.Where(id => id != webhookId)]);

    public Task<Guid[]> List() => Task.FromResult(state.State.Values);

    private async Task ChangeAsync(Guid[] ids)
    {
        var before = state.State.Values;
        state.State.Values = ids;
        await state.WriteOrRestoreAsync(() => state.State.Values = before);
    }
}
