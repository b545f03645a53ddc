Console.WriteLine("Locking load test: under construction.");
return 0;
