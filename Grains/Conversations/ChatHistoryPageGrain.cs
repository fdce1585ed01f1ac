using Orleans.Storage;

namespace ChatGrains.Grains;

/// <summary>The state of a sealed page of a chat's messages.</summary>
public sealed class ChatHistoryPage
{
    public ConversationMessage[] Messages { get; set; } = [];
}

/// <summary>
/// One full page of a chat's messages, keyed <c>{chatId:N}/{pageIndex}</c>, as versions before
/// messages were rows (<see cref="IMessageLog"/>) sealed them: read once, when the chat's grain
/// moves its messages to the message log. Nothing seals pages any more.
/// </summary>
[CollectionAgeLimit(Minutes = 2)]
public sealed class ChatHistoryPageGrain(
    [PersistentState(GrainStorage.ChatHistoryPage, GrainStorage.Name)] IPersistentState<ChatHistoryPage> state) : Grain, IChatHistoryPageGrain
{
    public async Task Store(ConversationMessage[] messages)
    {
        state.State.Messages = messages;
        try
        {
            await state.WriteStateAsync();
        }
        catch (InconsistentStateException)
        {
            // Another activation stored the page (the same messages: a page never changes once full).
            await state.ReadStateAsync();
        }
    }

    public Task<ConversationMessage[]> Read() => Task.FromResult(state.State.Messages);
}
