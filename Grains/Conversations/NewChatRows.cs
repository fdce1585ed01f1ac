namespace ChatGrains.Grains;

/// <summary>
/// What a new chat's first write stores besides its record: the chat's offers to its commercials
/// (<see cref="IOfferBook"/>) and the moment it goes unanswered (<see cref="IChatDeadlines"/>).
/// </summary>
public sealed record NewChatRows(Guid ChatId, Guid[] OfferedTo, DateTimeOffset UnansweredAt);

/// <summary>
/// Whether the grain storage stores a new chat's <see cref="NewChatRows"/> in the statement that
/// inserts its record, only if that statement stores it: one write per creation (PostgreSQL's
/// batched storage, <see cref="ChatRecord.NewChatRows"/>). Otherwise (Orleans' ADO.NET provider)
/// the chat grain writes them itself, before the record, so a node dying after the record's write
/// loses neither.
/// </summary>
public sealed record ChatStorageFeatures(bool StoresNewChatRows);
