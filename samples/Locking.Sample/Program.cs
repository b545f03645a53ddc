Console.WriteLine("Locking sample: under construction.");
return 0;
